"""The listener's agents -> the pacer's views: queue membership, phases, phase ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.agent_state import AgentState
from dialer.esl.events import Event
from dialer.listener.switch_state import agent_change
from dialer.pacing import AgentPhase, AgentView, OutcomeKind
from dialer.runner.ports import EndedAttempt
from dialer.runner.snapshot import InFlight, agent_views, outcomes_of, wrap_up_by_agent

Q = "sales@default"
NOW_S = 1_000.0


def test_only_agents_tiered_in_the_campaign_queue_count() -> None:
    agents = [
        AgentState("a", "Available", "Waiting", queues=(Q,)),
        AgentState("b", "Available", "Waiting", queues=("other@default",)),
        AgentState("c", "Available", "Waiting"),
        AgentState("d", "Available", "Waiting", queues=("other@default", Q)),
    ]
    assert [v.agent_id for v in agent_views(agents, Q, NOW_S)] == ["a", "d"]
    assert agent_views(agents, "nobody@default", NOW_S) == ()


def test_phase_ages_count_from_the_phase_start() -> None:
    agents = [
        AgentState("talk", "Available", "In a queue call", changed_at_s=940, queues=(Q,)),
        # wrap-up of 30 s after a bridge that ended 10 s ago: 20 s to go
        AgentState(
            "wrap", "Available", "Waiting", 990, bridge_end_s=990, wrap_up_s=30, queues=(Q,)
        ),
        AgentState(
            "ready", "Available", "Waiting", 900, bridge_end_s=900, wrap_up_s=30, queues=(Q,)
        ),
        AgentState("away", "On Break", "Waiting", changed_at_s=995, queues=(Q,)),
        AgentState("held", "Available", "Waiting", 800, ready_at_s=1_005, queues=(Q,)),
        AgentState("unknown", "Available", "In a queue call", queues=(Q,)),
    ]
    assert agent_views(agents, Q, NOW_S) == (
        AgentView("away", AgentPhase.AWAY, 5.0),
        AgentView("held", AgentPhase.WRAP_UP, 200.0),
        AgentView("ready", AgentPhase.READY, 100.0),
        AgentView("talk", AgentPhase.TALKING, 60.0),
        AgentView("unknown", AgentPhase.TALKING, 0.0),
        AgentView("wrap", AgentPhase.WRAP_UP, 10.0),
    )


def test_a_handled_call_teaches_the_agents_wrap_up() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    ended = EndedAttempt(
        1,
        "connected",
        False,
        originated_at=t,
        ended_at=t + timedelta(seconds=100),
        answered_at=t + timedelta(seconds=10),
        connected_at=t + timedelta(seconds=11),
        agent="a",
    )
    wraps = wrap_up_by_agent([AgentState("a", wrap_up_s=15), AgentState("b", wrap_up_s=5)])
    answered, handled = outcomes_of(ended, wraps[ended.agent or ""])
    assert answered.kind is OutcomeKind.ANSWERED and answered.after_s == pytest.approx(10)
    assert handled.kind is OutcomeKind.HANDLED
    assert (handled.talk_s, handled.wrap_s) == (pytest.approx(89), 15)


def test_a_launched_call_whose_attempt_ended_stops_counting_as_ringing() -> None:
    flight = InFlight(unseen_grace_s=10.0)
    flight.launch("refused", 100.0)  # the trunk was down: no channel, only the attempt's end
    flight.launch("ringing", 100.0)
    assert {v.call_id for v in flight.views({}, 101.0)} == {"refused", "ringing"}
    flight.ended("refused")
    flight.ended("never-launched")
    assert [v.call_id for v in flight.views({}, 102.0)] == ["ringing"]


@pytest.mark.parametrize("status", ["On Break", "Logged Out"])
def test_an_agent_set_to_leave_during_its_call_is_not_coming_free(status: str) -> None:
    # mod_callcenter changes the status at once (agent-status-change, as in the transcript
    # i_agent_status_changes) while the state stays In a queue call until the call ends
    talking = AgentState(
        "agent1@default", "Available", "In a queue call", changed_at_s=100, queues=("q",)
    )
    event = Event(
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "callcenter::info",
            "CC-Agent": "agent1@default",
            "CC-Action": "agent-status-change",
            "CC-Agent-Status": status,
        }
    )
    leaving = agent_change(talking, event, 130)
    assert leaving is not None and leaving.state == "In a queue call"
    [view] = agent_views([leaving], "q", 140)
    assert view.phase is AgentPhase.AWAY


def test_an_on_demand_agent_in_a_call_is_not_coming_free() -> None:
    # mod_callcenter sets an Available (On Demand) agent Idle after the call, not Waiting
    on_demand = AgentState(
        "a", "Available (On Demand)", "In a queue call", changed_at_s=100, queues=("q",)
    )
    [view] = agent_views([on_demand], "q", 140)
    assert view.phase is AgentPhase.AWAY
    before_its_call = AgentState("a", "Available (On Demand)", "Waiting", 100, queues=("q",))
    assert agent_views([before_its_call], "q", 140)[0].phase is AgentPhase.READY
    idle_after = AgentState("a", "Available (On Demand)", "Idle", 200, queues=("q",))
    assert agent_views([idle_after], "q", 240)[0].phase is AgentPhase.AWAY
