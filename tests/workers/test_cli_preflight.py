"""``dialer campaigns start`` and ``check`` against the switch simulator over TCP: a campaign
whose queue the switch does not have is refused with the queue named, unless forced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.sim.simulator import SimulatorServer
from workers.cli import app
from workers.context import app_context

pytestmark = pytest.mark.integration

# has queue campaign@default and extension cc_campaign, not the README's sales@default
E2E = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "e2e.yaml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    with SimulatorServer(E2E) as server:
        node = {"name": "fs1", "host": server.sim.host, "port": server.sim.port_number}
        monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps([node]))
        app_context.cache_clear()
        yield CliRunner()
        app_context.cache_clear()


def test_start_refuses_a_campaign_whose_queue_the_switch_lacks_unless_forced(
    cli: CliRunner,
) -> None:
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "sales@default"])
    assert created.exit_code == 0, created.output
    refused = cli.invoke(app, ["campaigns", "start", "spring"])
    assert refused.exit_code == 1, refused.output
    assert "queue sales@default does not exist on fs1: load it in callcenter.conf.xml" in (
        refused.output
    )
    assert "extension cc_spring is not in dialplan context campaign on fs1" in refused.output
    assert "campaign spring not started" in refused.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"])
    assert "draft" in shown.output and "running" not in shown.output
    forced = cli.invoke(app, ["campaigns", "start", "spring", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "campaign spring is running" in forced.output


def test_check_prints_every_check_and_exits_1_on_a_failure(cli: CliRunner) -> None:
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "campaign@default"])
    assert created.exit_code == 0, created.output
    checked = cli.invoke(app, ["campaigns", "check", "spring"], env={"COLUMNS": "250"})
    assert checked.exit_code == 1, checked.output
    lines = checked.output.splitlines()
    assert "pass queue: queue campaign@default exists on fs1" in lines
    assert any(line.startswith("FAIL dialplan: extension cc_spring") for line in lines)
    assert any(
        line.startswith("pass agents: 80 agents in queue campaign@default") for line in lines
    )
    assert "FAIL trunk: no enabled trunk to dial through: add one" in checked.output
    assert any(line.startswith("FAIL leads: no lead is waiting") for line in lines)
    assert any(line.startswith(("pass window:", "warn window:")) for line in lines)
    unknown = cli.invoke(app, ["campaigns", "check", "autumn"])
    assert unknown.exit_code == 1 and "no campaign named 'autumn'" in unknown.output
