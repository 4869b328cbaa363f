"""``dialer nodes`` against two switch simulators over TCP and the test Redis: ``list``
shows each node's capacity as its ``status`` says, ``limits`` sets it with ``fsctl``,
``drain`` / ``undrain`` are seen by every process; a node that is down is listed as such."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from dialer.nodes.wiring import redis_node_store
from dialer.sim.simulator import SimulatorServer
from tests.conftest import REDIS_URL
from tests.support.net import free_port
from workers.cli import app
from workers.context import app_context

pytestmark = pytest.mark.integration

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "campaign.yaml"


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[str]
) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DIALER_REDIS_URL", REDIS_URL)  # the redis_client's, emptied
    with SimulatorServer(SCENARIO) as server:
        nodes = [
            {"name": "fs1", "host": server.sim.host, "port": server.sim.port_number},
            {"name": "fs2", "host": "127.0.0.1", "port": free_port(), "sps": 5},
        ]
        monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps(nodes))
        app_context.cache_clear()
        yield CliRunner()
        app_context.cache_clear()


def rows(output: str) -> dict[str, list[str]]:
    lines = [ln for ln in output.splitlines() if "│" in ln or "┃" in ln]
    cells = [[c.strip() for c in ln.replace("┃", "│").split("│")[1:-1]] for ln in lines]
    return {c[0]: c[1:] for c in cells if c and c[0] in {"fs1", "fs2"}}


def test_list_limits_drain_undrain(cli: CliRunner) -> None:
    listed = cli.invoke(app, ["nodes", "list"])
    assert listed.exit_code == 0, listed.output
    assert rows(listed.output) == {
        "fs1": ["yes", "0/1000", "30", "no", "all"],
        "fs2": ["no", "-/-", "5", "no", "all"],
    }
    limited = cli.invoke(app, ["nodes", "limits", "fs1", "--sps", "50", "--max-sessions", "200"])
    assert limited.exit_code == 0, limited.output
    assert "node fs1: sps 50, max_sessions 200" in limited.output
    assert cli.invoke(app, ["nodes", "drain", "fs1"]).exit_code == 0
    assert redis_node_store(app_context().redis, "dialer").records(["fs1"])["fs1"].draining
    listed = cli.invoke(app, ["nodes", "list"])
    assert rows(listed.output)["fs1"] == ["yes", "0/200", "50", "yes", "all"]
    assert cli.invoke(app, ["nodes", "undrain", "fs1"]).exit_code == 0
    assert rows(cli.invoke(app, ["nodes", "list"]).output)["fs1"][3] == "no"
    unknown = cli.invoke(app, ["nodes", "drain", "fs9"])
    assert unknown.exit_code == 1 and "no node named 'fs9'" in unknown.output
