"""``dialer campaigns`` and the abandon safety stop: the run limit is a setting, ``show``
prints why and when the dialer paused a campaign, ``start`` resumes it and clears that."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.models import Campaign
from dialer.listener.adapters import SqlSafetyStore
from tests.support.net import unreachable_nodes
from workers.cli import app
from workers.context import app_context

REASON = "5 answered calls in a row abandoned (no agent took them)"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DIALER_TIMEZONE", "Asia/Shanghai")
    # no switch: ``start`` needs --force past the preflight
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", unreachable_nodes())
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def run_limit(name: str) -> int:
    with app_context().sessions() as session:
        campaign = session.query(Campaign).filter_by(name=name).one()
        return campaign.abandon_run_limit


def test_the_run_limit_is_set_at_creation_and_changed_by_update(cli: CliRunner) -> None:
    created = cli.invoke(app, ["campaigns", "create", "a", "--queue", "q"])
    assert created.exit_code == 0, created.output
    assert run_limit("a") == 5
    args = ["campaigns", "create", "b", "--queue", "q", "--abandon-run-limit", "3"]
    assert cli.invoke(app, args).exit_code == 0
    assert run_limit("b") == 3
    updated = cli.invoke(app, ["campaigns", "update", "b", "--abandon-run-limit", "8"])
    assert updated.exit_code == 0, updated.output
    assert "abandon run limit 8" in updated.output and run_limit("b") == 8
    refused = cli.invoke(app, ["campaigns", "update", "b", "--abandon-run-limit", "0"])
    assert refused.exit_code != 0 and run_limit("b") == 8


def test_show_prints_the_reason_beside_the_status_until_start(cli: CliRunner) -> None:
    assert cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"]).exit_code == 0
    assert cli.invoke(app, ["campaigns", "start", "spring", "--force"]).exit_code == 0
    at = datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC)
    assert SqlSafetyStore(app_context().sessions).pause(1, REASON, at)

    shown = cli.invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert f"paused by the dialer at 2026-11-23 10:00:05+08:00: {REASON}" in shown.output

    stopped = cli.invoke(app, ["campaigns", "stop", "spring"])
    assert stopped.exit_code == 0
    shown = cli.invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "250"})
    assert "stopped" in shown.output and REASON not in shown.output

    started = cli.invoke(app, ["campaigns", "start", "spring", "--force"])
    assert started.exit_code == 0 and "is running" in started.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "250"})
    assert REASON not in shown.output and "by the dialer" not in shown.output
    with app_context().sessions() as session:
        campaign = session.get(Campaign, 1)
        assert campaign is not None
        assert (campaign.pause_reason, campaign.paused_at) == (None, None)
