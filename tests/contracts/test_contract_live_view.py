"""The `LiveView` contract (`dialer.runner.ports`): `MemoryLiveView`, and `LiveStateView` over
the listener's `RedisLiveState` of two nodes. Every node's agents, a campaign's calls only."""

from __future__ import annotations

from typing import Protocol

import pytest

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.listener.adapters import RedisLiveState
from dialer.runner.adapters import LiveStateView
from dialer.runner.fakes import MemoryLiveView
from dialer.runner.ports import LiveView
from tests.conftest import Backend

PORT = "live_view"
NODES = ("fs1", "fs2")


class Harness(Protocol):
    view: LiveView

    def show(self, node: str, agents: list[AgentState], calls: list[CallState]) -> None:
        """What the listener of ``node`` has put in the live state."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryLiveView()
        self.view: LiveView = self.memory

    def show(self, node: str, agents: list[AgentState], calls: list[CallState]) -> None:
        self.memory.agent_states.extend(agents)
        self.memory.call_states.extend(calls)


class RedisHarness:
    def __init__(self, live: RedisLiveState) -> None:
        self.live = live
        self.view: LiveView = LiveStateView(live, NODES)

    def show(self, node: str, agents: list[AgentState], calls: list[CallState]) -> None:
        for agent in agents:
            self.live.put_agent(node, agent)
        for call in calls:
            self.live.put_call(node, call)


@pytest.fixture
def h(backend: Backend) -> Harness:
    if backend.is_fake:
        return MemoryHarness()
    return RedisHarness(RedisLiveState(backend.redis(), prefix="test:view"))


def call(call_uuid: str, campaign_id: int | None) -> CallState:
    return CallState(call_uuid, campaign_id, 1, 1, "carrier_a", created=True)


def by_name(agents: list[AgentState]) -> list[AgentState]:
    return sorted(agents, key=lambda a: a.name)


def by_uuid(calls: list[CallState]) -> list[CallState]:
    return sorted(calls, key=lambda c: c.call_uuid)


def test_agents_of_every_node_are_seen_whole(h: Harness) -> None:
    assert h.view.agents() == []
    a1 = AgentState("a1@default", "Available", "Waiting", 5.0, 2.0, 10.0, 0.0, ("q@default",))
    a2 = AgentState("a2@default", "On Break", "Idle", queues=("q@default", "r@default"))
    b1 = AgentState("b1@default", "Available", "In a queue call", 7.0)
    h.show("fs1", [a1, a2], [])
    h.show("fs2", [b1], [])
    assert by_name(h.view.agents()) == [a1, a2, b1]


def test_a_campaign_sees_its_own_calls_on_every_node(h: Harness) -> None:
    mine = [call("u-1", 7), call("u-3", 7)]
    h.show("fs1", [], [mine[0], call("u-2", 8), call("u-9", None)])
    h.show("fs2", [], [mine[1]])
    assert by_uuid(h.view.calls(7)) == mine
    assert [c.call_uuid for c in h.view.calls(8)] == ["u-2"]
    assert h.view.calls(9) == []


def test_what_is_read_is_a_copy(h: Harness) -> None:
    h.show("fs1", [AgentState("a1@default", "Available")], [call("u-1", 7)])
    h.view.agents().clear()
    h.view.calls(7).clear()
    assert len(h.view.agents()) == 1 and len(h.view.calls(7)) == 1
