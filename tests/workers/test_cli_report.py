"""``dialer report cost``: the stored CDRs' cost per campaign, trunk and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.cdr.adapters import SqlCdrStore, campaign_names
from dialer.cdr.billing import Charge
from dialer.cdr.parse import parse_cdr
from tests.support.cdr import with_dialer_ids
from tests.support.transcripts import http_capture_text
from workers.cli import app
from workers.context import app_context


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DIALER_TIMEZONE", "UTC")
    app_context.cache_clear()
    yield CliRunner(env={"COLUMNS": "200"})
    app_context.cache_clear()


def test_report_cost_lists_each_campaign_trunk_and_day(cli: CliRunner) -> None:
    assert cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q@d"]).exit_code == 0
    sessions = app_context().sessions
    (campaign_id,) = campaign_names(sessions)
    xml = with_dialer_ids(http_capture_text("v1_cdr_answered_bridged.cdr.xml"), campaign_id, 1, 1)
    facts = parse_cdr(xml)
    charge = Charge(20, 24, Decimal("0.024"), Decimal("0.06"), 6)
    SqlCdrStore(sessions).add(facts, xml, datetime.now(UTC), charge)
    day = datetime.fromtimestamp(facts.started_us / 1e6, UTC).date().isoformat()
    result = cli.invoke(app, ["report", "cost", "--since", "2000-01-01T00:00", "--until",
                              "2100-01-01T00:00"])  # fmt: skip
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "spring" in line)
    assert all(v in row for v in ("carrier_a", day, "20", "0.40", "0.0240", "1.0")), row
    other = cli.invoke(app, ["report", "cost", "--since", "2000-01-01T00:00", "--until",
                             "2100-01-01T00:00", "--campaign", "autumn"])  # fmt: skip
    assert "spring" not in other.output
    bad = cli.invoke(app, ["report", "cost", "--since", "2100-01-01T00:00", "--until",
                           "2000-01-01T00:00"])  # fmt: skip
    assert bad.exit_code == 1 and "before its end" in bad.output
