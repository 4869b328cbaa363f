"""`EslAgentHolds` over two nodes' simulated mod_callcenter (through the ESL fake): a hold is
one ``bgapi`` per node that leaves the agent Idle (offered no queue call), a release makes it
Waiting where it is still Available; a node that is down or refuses is logged, never
raised."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dialer import agent_admin
from dialer.apicalls.hold_adapters import EslAgentHolds
from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import Subscription
from dialer.sim.callcenter import create_engine
from dialer.sim.callcenter.fakes import FakeSwitchPort
from dialer.sim.scenario import load_scenario

LAB = Path(__file__).parents[3] / "scenarios/sim/lab.yaml"
AGENT = "agent1@default"  # Available and Waiting in the lab


def node(name: str) -> FakeEslConnection:
    engine = create_engine(FakeSwitchPort(), load_scenario(LAB).callcenter)

    def respond(cmd: str) -> str:
        _, _, args = cmd.partition(" ")
        return engine.api(args) or "-ERR no reply\n"

    return FakeEslConnection(name, Subscription(events=()), lambda e: None, respond)


def state_of(conn: FakeEslConnection) -> tuple[str, str]:
    agent = {a.name: a for a in agent_admin.list_agents(conn)}[AGENT]
    return agent.status, agent.state


def test_a_hold_and_a_release_reach_every_node() -> None:
    fs1, fs2 = node("fs1"), node("fs2")
    holds = EslAgentHolds({"fs1": fs1, "fs2": fs2})
    holds.hold(AGENT)
    assert fs1.sent == fs2.sent == [f"bgapi callcenter_config agent set state {AGENT} Idle"]
    assert state_of(fs1) == state_of(fs2) == ("Available", "Idle")
    agent_admin.set_status(fs2, AGENT, "break")  # on fs2 the agent went on a break
    holds.release(AGENT)
    assert state_of(fs1) == ("Available", "Waiting")
    assert state_of(fs2) == ("On Break", "Idle")


def test_a_node_down_or_refusing_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    fs1, fs2 = node("fs1"), node("fs2")
    fs2.drop()
    holds = EslAgentHolds({"fs1": fs1, "fs2": fs2})
    with caplog.at_level(logging.WARNING):
        holds.hold(AGENT)
        holds.hold("nosuch@default")
        holds.release(AGENT)
    assert state_of(fs1) == ("Available", "Waiting")
    logged = caplog.text
    assert f"fs2: agent {AGENT} not held" in logged
    assert "fs1: agent nosuch@default not held from queue calls: -ERR Agent not found!" in logged
    assert f"fs2: agent {AGENT} still held" in logged
