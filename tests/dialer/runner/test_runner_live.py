"""A campaign's live figures: agents of its queue by phase (others not counted), its calls
by stage, the dial level over the staffed agents only."""

from __future__ import annotations

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.runner.live import LiveFigures, dial_level, live_figures

Q = "sales@default"


def agent(name: str, status: str, state: str, queues: tuple[str, ...] = (Q,)) -> AgentState:
    return AgentState(name, status, state, 100.0, queues=queues)


def test_agents_by_phase_calls_by_stage_and_the_dial_level() -> None:
    agents = [
        agent("a", "Available", "Waiting"),
        agent("b", "Available", "In a queue call"),
        agent("c", "On Break", "Idle"),
        agent("d", "Available", "Waiting", queues=("other@default",)),
    ]
    calls = [
        CallState("u1", 1, 1, 1, "t", created=True),
        CallState("u2", 1, 2, 2, "t", created=True, answered_at_us=5),
        CallState("u3", 1, 3, 3, "t", created=True, answered_at_us=5, connected_at_us=6),
        CallState("u4", 1, 4, 4, "t"),
    ]
    figures = live_figures(agents, calls, Q, now_s=200.0)
    assert figures == LiveFigures(
        agents_by_phase={
            "ready": 1,
            "offered": 0,
            "previewing": 0,
            "talking": 1,
            "wrap_up": 0,
            "away": 1,
        },
        ringing=2,
        waiting=1,
        talking=1,
        dial_level=2.0,
    )


def test_no_staffed_agent_is_a_dial_level_of_zero() -> None:
    assert dial_level(3, 0) == 0.0
    only_away = live_figures([agent("c", "Logged Out", "Idle")], [], Q, now_s=1.0)
    assert only_away.dial_level == 0.0 and only_away.agents_by_phase["away"] == 1
