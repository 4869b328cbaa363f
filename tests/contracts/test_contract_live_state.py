"""The `LiveState` contract (`dialer.listener.ports`): `MemoryLiveState` and `RedisLiveState`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.listener.adapters import RedisLiveState
from dialer.listener.fakes import MemoryLiveState
from dialer.listener.ports import LiveState
from tests.conftest import Backend

PORT = "live_state"


@pytest.fixture
def live_state(backend: Backend) -> LiveState:
    if backend.is_fake:
        return MemoryLiveState()
    return RedisLiveState(backend.redis(), prefix="test:live")


def answered(call_uuid: str) -> CallState:
    return CallState(call_uuid, 1, 2, 3, "carrier_a", created=True, answered_at_us=1)


def test_calls_are_kept_per_node_whole_and_replaced_by_uuid(live_state: LiveState) -> None:
    state = answered("u1")
    live_state.put_call("fs1", state)
    live_state.put_call("fs2", answered("u2"))
    assert live_state.calls("fs1") == {"u1": state}
    later = replace(
        state,
        dialed_number="+8613800138000",
        recording_path="/rec/u1.wav",
        progressed=True,
        queued_at_us=200,
        connected_at_us=300,
        agent="agent1@default",
        machine=True,
    )
    live_state.put_call("fs1", later)
    assert live_state.calls("fs1") == {"u1": later}
    live_state.drop_call("fs1", "u1")
    live_state.drop_call("fs1", "u1")  # dropping what is gone is no error
    assert live_state.calls("fs1") == {}
    assert set(live_state.calls("fs2")) == {"u2"}
    assert live_state.calls("fs9") == {}


def test_agents_are_kept_per_node_and_stored_whole(live_state: LiveState) -> None:
    agent = AgentState("a@d", "Available", "Waiting", 1.5, 1.0, 10.0, 0.0, ("q@d", "r@d"))
    live_state.put_agent("fs1", AgentState("a@d", status="Available"))
    live_state.put_agent("fs1", agent)
    live_state.put_agent("fs1", AgentState("b@d", "On Break"))
    assert live_state.agents("fs1") == {"a@d": agent, "b@d": AgentState("b@d", "On Break")}
    live_state.drop_agent("fs1", "b@d")
    assert live_state.agents("fs1") == {"a@d": agent}
    assert live_state.agents("fs2") == {}


def test_what_is_read_is_a_copy(live_state: LiveState) -> None:
    live_state.put_call("fs1", answered("u1"))
    live_state.put_agent("fs1", AgentState("a@d", "Available"))
    live_state.calls("fs1").clear()
    live_state.agents("fs1").clear()
    assert set(live_state.calls("fs1")) == {"u1"}
    assert set(live_state.agents("fs1")) == {"a@d"}
