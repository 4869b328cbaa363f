"""``dialer agents`` against the simulator over TCP, on the configured node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.sim.simulator import SimulatorServer
from workers.cli import app
from workers.context import app_context

LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Each test's command reads the settings its test set (once, as a process would)."""
    app_context.cache_clear()
    yield
    app_context.cache_clear()


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    with SimulatorServer(LAB) as server:
        node = {"name": "fs1", "host": server.sim.host, "port": server.sim.port_number}
        monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps([node]))
        yield CliRunner()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _row(output: str, agent: str) -> list[str]:
    line = next(ln for ln in output.splitlines() if agent in ln)
    return [c.strip() for c in line.strip("│ ").split("│")]


@pytest.mark.integration
def test_add_ready_break_logout(cli: CliRunner) -> None:
    _ok(cli, "agents", "add", "1001@default", "--contact", "user/1001", "--queue", "sales@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[2:] == ["Logged Out", "Waiting"]
    _ok(cli, "agents", "login", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[2] == "On Break"
    _ok(cli, "agents", "ready", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[2:] == ["Available", "Waiting"]
    _ok(cli, "agents", "break", "1001@default")
    _ok(cli, "agents", "logout", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[2] == "Logged Out"


@pytest.mark.integration
def test_errors_are_one_line(cli: CliRunner) -> None:
    again = ["agents", "add", "agent1@default", "--contact", "user/1001"]
    result = cli.invoke(app, again)
    assert result.exit_code == 1 and "Agent already exist!" in result.output
    hostile = cli.invoke(app, ["agents", "add", "x y", "--contact", "user/1"])
    assert hostile.exit_code == 1 and "not allowed" in hostile.output
    unknown = cli.invoke(app, ["agents", "ready", "nosuch@default"])
    assert unknown.exit_code == 1 and "Agent not found!" in unknown.output


def test_no_switch_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.chdir(tmp_path)
    node = {"name": "fs1", "host": "127.0.0.1", "port": 9}
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps([node]))
    monkeypatch.setattr("workers.cli.agents.CONNECT_TIMEOUT_S", 0.5)
    result = CliRunner().invoke(app, ["agents", "list"])
    assert result.exit_code == 1 and "no Event Socket" in result.output
