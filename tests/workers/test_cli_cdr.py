"""``dialer cdr import`` (err-log-dir files) and ``dialer leads release-unknown``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.domain import UNSETTLED, LeadStatus
from campaigns.models import Campaign, Lead
from tests.support.transcripts import HTTP_CAPTURES_DIR
from workers.cli import app
from workers.context import app_context

ERR_LOG_FILES = (
    "v1_err-log-dir_after_500__a_a8626551-19b8-459b-a34a-5eecd2004b4d.cdr.xml",
    "v2_err-log-dir_receiver_down__a_5824cad0-e155-40d8-886c-b71dfd660f40.cdr.xml",
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def test_err_log_dir_files_are_imported_once(cli: CliRunner, tmp_path: Path) -> None:
    err_dir = tmp_path / "xml_cdr_err"
    err_dir.mkdir()
    for name in ERR_LOG_FILES:
        # FreeSWITCH names them a_<uuid>.cdr.xml
        shutil.copy(HTTP_CAPTURES_DIR / name, err_dir / name.rsplit("__", 1)[1])
    first = cli.invoke(app, ["cdr", "import", str(err_dir)])
    assert first.exit_code == 0, first.output
    assert "2 CDR file(s) taken, 2 new" in first.output
    again = cli.invoke(app, ["cdr", "import", str(err_dir)])
    assert "2 CDR file(s) taken, 0 new" in again.output


def test_bad_paths_and_files_are_named(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli.invoke(app, ["cdr", "import", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert "nope is neither a file nor a directory" in missing.output
    broken = tmp_path / "a_x.cdr.xml"
    broken.write_text("%3Ccdr%3E", encoding="utf-8")
    refused = cli.invoke(app, ["cdr", "import", str(broken)])
    assert refused.exit_code == 1
    assert "a_x.cdr.xml" in refused.output and "0 CDR file(s) taken" in refused.output


def test_release_unknown_puts_held_leads_back(cli: CliRunner) -> None:
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"])
    assert created.exit_code == 0, created.output
    with app_context().sessions.begin() as s:
        campaign = s.scalars(select(Campaign)).one()
        for i, (status, last) in enumerate(
            [(LeadStatus.FAILED, UNSETTLED), (LeadStatus.FAILED, "busy")]
        ):
            s.add(
                Lead(
                    campaign_id=campaign.id, phone_e164=f"+861380013800{i}",
                    phone_raw=f"1380013800{i}", country="CN", number_type="mobile",
                    status=status, last_outcome=last,
                )
            )  # fmt: skip
    released = cli.invoke(app, ["leads", "release-unknown", "--campaign", "spring"])
    assert released.exit_code == 0, released.output
    assert "released 1 lead(s)" in released.output
    with app_context().sessions() as s:
        statuses = sorted(str(lead.status) for lead in s.scalars(select(Lead)))
    assert statuses == ["failed", "pending"]
    unknown = cli.invoke(app, ["leads", "release-unknown", "--campaign", "autumn"])
    assert unknown.exit_code == 1 and "no campaign named 'autumn'" in unknown.output
