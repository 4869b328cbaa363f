"""``dialer agents`` against the simulator over TCP, on the configured node: all or nothing,
the database's agents listed with the switch's status, a switch restart, no switch."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import Subscription
from dialer.sim.simulator import SimulatorServer
from tests.support.waiting import wait_until
from workers.cli import app
from workers.context import app_context

LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Each test's command reads the settings its test set (once, as a process would)."""
    app_context.cache_clear()
    yield
    app_context.cache_clear()


@dataclass
class Switch:
    """The lab simulator, restartable: a fresh one on the same port (it knows only its
    configuration, as a restarted FreeSWITCH does)."""

    server: SimulatorServer

    @property
    def address(self) -> tuple[str, int]:
        return self.server.sim.host, self.server.sim.port_number

    def restart(self) -> None:
        host, port = self.address
        self.server.stop()
        self.server = SimulatorServer(LAB)
        self.server.start(host, port)

    def api(self, command: str) -> str:
        """``command``'s reply, on a connection of its own."""
        return _switch_api(*self.address, command)


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> Iterator[Switch]:
    """The lab simulator, the only configured node; a database of the test's own."""
    monkeypatch.chdir(tmp_path)
    switch = Switch(SimulatorServer(LAB))
    switch.server.start()
    try:
        host, port = switch.address
        node = {"name": "fs1", "host": host, "port": port}
        monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps([node]))
        yield switch
    finally:
        switch.server.stop()


@pytest.fixture
def cli(sim: Switch) -> CliRunner:
    return CliRunner()


def _switch_api(host: str, port: int, command: str) -> str:
    client = EslClient("fs1", host, port, "ClueCon", Subscription(events=()), lambda e: None)
    client.start()
    try:
        assert client.wait_connected(5)
        return client.api(command, 5)
    finally:
        client.close()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _row(output: str, agent: str) -> list[str]:
    line = next(ln for ln in output.splitlines() if f" {agent} " in ln)
    return [c.strip() for c in line.strip("│ ").split("│")]


@pytest.mark.integration
def test_add_ready_break_logout(cli: CliRunner) -> None:
    _ok(cli, "agents", "add", "1001@default", "--contact", "user/1001", "--queue", "sales@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[-2:] == ["Logged Out", "Waiting"]
    _ok(cli, "agents", "login", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[-2] == "On Break"
    _ok(cli, "agents", "ready", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[-2:] == ["Available", "Waiting"]
    _ok(cli, "agents", "break", "1001@default")
    _ok(cli, "agents", "logout", "1001@default")
    assert _row(_ok(cli, "agents", "list"), "1001@default")[-2] == "Logged Out"


@pytest.mark.integration
def test_list_shows_contact_and_queues_with_the_switch_status(cli: CliRunner) -> None:
    add = ["agents", "add", "1001", "--contact", "user/1001", "--queue", "sales@default"]
    _ok(cli, *add, "--level", "2", "--position", "3")
    row = _row(_ok(cli, "agents", "list"), "1001")
    assert row == ["fs1", "1001", "user/1001", "sales@default 2/3", "Logged Out", "Waiting"]
    _ok(cli, "agents", "tier", "add", "1001", "--queue", "ringall@default")
    assert _row(_ok(cli, "agents", "list"), "1001")[3] == "ringall@default 1/1, sales@default 2/3"
    _ok(cli, "agents", "tier", "remove", "1001", "--queue", "ringall@default")
    assert _row(_ok(cli, "agents", "list"), "1001")[3] == "sales@default 2/3"
    # the lab's own agents (callcenter.conf.xml) are listed as the switch's only
    assert _row(_ok(cli, "agents", "list"), "agent1@default")[2] == "not in the database"


@pytest.mark.integration
def test_add_is_all_or_nothing(cli: CliRunner, sim: Switch) -> None:
    """A tier in a queue the switch lacks: refused, and neither the switch nor the database
    keeps the agent (before: the agent stayed on the switch without its tier)."""
    add = ["agents", "add", "1001", "--contact", "user/1001", "--queue", "nosuch@default"]
    result = cli.invoke(app, add)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "nosuch@default" in result.output
    assert "1001|" not in sim.api("callcenter_config agent list")
    assert "1001" not in _ok(cli, "agents", "list")
    _ok(cli, *add[:-1], "sales@default")  # the same agent in a queue that exists: added
    assert _row(_ok(cli, "agents", "list"), "1001")[3] == "sales@default 1/1"


@pytest.mark.integration
def test_remove_deletes_on_the_switch_and_in_the_database(cli: CliRunner, sim: Switch) -> None:
    _ok(cli, "agents", "add", "1001", "--contact", "user/1001", "--queue", "sales@default")
    _ok(cli, "agents", "remove", "1001")
    assert "1001" not in _ok(cli, "agents", "list")
    assert "|1001|" not in sim.api("callcenter_config tier list")
    again = cli.invoke(app, ["agents", "remove", "1001"])
    assert again.exit_code == 1 and "no agent 1001 in the database" in again.output


@pytest.mark.integration
def test_a_restarted_switch_gets_the_agents_back(sim: Switch, cli: CliRunner) -> None:
    """The listener makes a node match the database after each reconnect: a restarted
    switch (a fresh simulator on the same port) gets the agent and its tier, Logged Out."""
    from workers.listener import start_listeners

    _ok(cli, "agents", "add", "1001", "--contact", "user/1001", "--queue", "sales@default")
    running = start_listeners(app_context(), notify=None)
    try:
        assert wait_until(lambda: all(r.client.connects == 1 for r in running), 5)
        sim.restart()
        assert wait_until(lambda: "1001|" in sim.api("callcenter_config agent list"), 10), (
            "the restarted switch never got the agent back"
        )
        tiers = sim.api("callcenter_config tier list").splitlines()
        assert "sales@default|1001|Ready|1|1" in tiers
        assert _row(_ok(cli, "agents", "list"), "1001")[-2:] == ["Logged Out", "Waiting"]
    finally:
        for r in running:
            r.stop()


@pytest.mark.integration
def test_sync_adds_what_is_missing_and_keeps_statuses(sim: Switch, cli: CliRunner) -> None:
    _ok(cli, "agents", "add", "1001", "--contact", "user/1001", "--queue", "sales@default")
    _ok(cli, "agents", "ready", "1001")
    assert _ok(cli, "agents", "sync").strip() == "fs1: 0 changes"
    assert _row(_ok(cli, "agents", "list"), "1001")[-2:] == ["Available", "Waiting"]
    sim.api("callcenter_config tier del sales@default 1001")
    sim.api("callcenter_config agent set contact 1001 user/9999")
    assert _ok(cli, "agents", "sync").strip() == "fs1: 2 changes"
    assert _row(_ok(cli, "agents", "list"), "1001")[-2:] == ["Available", "Waiting"]
    assert "1001|single_box||callback|user/1001|" in sim.api("callcenter_config agent list")


@pytest.fixture
def no_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    """The only node is a port where nothing listens."""
    monkeypatch.chdir(tmp_path)
    node = {"name": "fs1", "host": "127.0.0.1", "port": 9}
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps([node]))


NO_SWITCH = "error: fs1: no Event Socket at 127.0.0.1:9 (connection refused)"


@pytest.mark.parametrize(
    "command",
    [
        ["add", "1001", "--contact", "user/1001", "--queue", "sales@default"],
        ["ready", "1001"],
        ["tier", "add", "1001", "--queue", "sales@default"],
        ["sync"],
    ],
    ids=lambda c: c[0] if len(c) > 1 and c[0] != "tier" else " ".join(c[:2]),
)
def test_no_switch_is_one_line_at_once(
    no_switch: None, command: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """One line, exit 1, in well under 2 s, and not one retry (before: 5 s and more, with a
    connect error logged for each attempt). Only the threads this command starts count: a
    client an earlier test left behind may log from its own."""
    caplog.set_level(logging.WARNING)
    earlier_threads = {t.ident for t in threading.enumerate()}
    started = time.monotonic()
    result = CliRunner().invoke(app, ["agents", *command])
    elapsed_s = time.monotonic() - started
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [NO_SWITCH]
    assert elapsed_s < 2.0, elapsed_s
    retries = [r for r in caplog.records if "connect failed" in r.getMessage()]
    assert not [r for r in retries if r.thread not in earlier_threads]


def test_list_without_a_switch_still_lists_the_database(no_switch: None) -> None:
    from dialer.agents.ports import AgentRecord, Tier
    from dialer.agents.wiring import sql_agent_store

    store = sql_agent_store(app_context().sessions)
    store.put(AgentRecord("1001", "user/1001", (Tier("sales@default"),)))
    result = CliRunner().invoke(app, ["agents", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == NO_SWITCH
    assert _row(result.output, "1001") == [
        "fs1", "1001", "user/1001", "sales@default 1/1", "?", "?"
    ]  # fmt: skip
