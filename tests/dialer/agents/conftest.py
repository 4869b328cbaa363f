"""Nodes for the agents tests: the ESL fake answering with the simulator's mod_callcenter (the
lab's queues and agents), optionally failing chosen commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import EslDisconnected, Subscription
from dialer.sim.callcenter import create_engine
from dialer.sim.callcenter.fakes import FakeSwitchPort
from dialer.sim.scenario import load_scenario

LAB = Path(__file__).parents[3] / "scenarios/sim/lab.yaml"

Node = Callable[..., FakeEslConnection]


def lab_node(
    name: str = "fs1", fail: dict[str, str] | None = None, drop_on: str | None = None
) -> FakeEslConnection:
    """A node of the lab: ``fail`` maps a command prefix to the error reply it gets instead;
    ``drop_on``: the connection drops on the first command with that prefix."""
    engine = create_engine(FakeSwitchPort(), load_scenario(LAB).callcenter)

    def respond(cmd: str) -> str:
        if drop_on is not None and cmd.startswith(drop_on):
            raise EslDisconnected(f"{name}: closed by peer")
        for prefix, reply in (fail or {}).items():
            if cmd.startswith(prefix):
                return reply
        api, _, args = cmd.partition(" ")
        assert api == "callcenter_config"
        return engine.api(args) or "-ERR no reply\n"

    return FakeEslConnection(name, Subscription(events=()), lambda e: None, respond)


@pytest.fixture
def node() -> Node:
    return lab_node
