"""Pure pieces of a tick: the listener's records -> the pacer's views and outcomes.

Times: ``now_s`` and launch times are seconds since the epoch; `CallState` times are µs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import (
    AgentPhase,
    AgentView,
    CallStage,
    CallView,
    Outcome,
    OutcomeKind,
    phase_from_callcenter,
)
from dialer.runner.ports import EndedAttempt

# Outcomes that mean "launched, rang, no person": they lower the estimated answer rate.
_UNANSWERED = frozenset({"no_answer", "busy", "rejected", "invalid_number", "failed"})


def agent_views(agents: Iterable[AgentState], queue: str, now_s: float) -> tuple[AgentView, ...]:
    """The agents tiered in ``queue`` -> pacer views, sorted by name.

    A waiting agent is wrapping up until mod_callcenter may offer it a call again; its
    wrap-up counts from its last bridge end, any other phase from its start. An unknown start
    (0) reads as a phase that has just begun.
    """
    views = []
    for a in sorted(agents, key=lambda a: a.name):
        if queue not in a.queues:
            continue
        phase = phase_from_callcenter(a.status, a.state, a.ready_from_s() - now_s)
        since_s = a.changed_at_s
        if phase is AgentPhase.WRAP_UP and a.bridge_end_s:
            since_s = a.bridge_end_s
        views.append(AgentView(a.name, phase, max(0.0, now_s - since_s) if since_s else 0.0))
    return tuple(views)


@dataclass
class InFlight:
    """Calls of one campaign not yet connected to an agent, from launch to the listener's word.

    A launched call counts as ringing from its originate until the listener reports it; once
    reported, the listener's state decides; a call whose attempt has ended is forgotten at
    once (a trunk down before any channel existed ends it with no channel event), and one the
    listener never reports at all after ``unseen_grace_s``.
    """

    unseen_grace_s: float = 10.0
    launched_s: dict[str, float] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def launch(self, call_uuid: str, now_s: float) -> None:
        self.launched_s[call_uuid] = now_s

    def ended(self, call_uuid: str) -> None:
        """The call's attempt is over (the switch may have refused it before any channel)."""
        self.launched_s.pop(call_uuid, None)
        self.seen.discard(call_uuid)

    def views(self, live: Mapping[str, CallState], now_s: float) -> tuple[CallView, ...]:
        out: list[CallView] = []
        for call_uuid, state in sorted(live.items()):
            if call_uuid in self.launched_s:
                self.seen.add(call_uuid)
            if state.connected_at_us:
                continue
            if state.answered_at_us:
                age = max(0.0, now_s - state.answered_at_us / 1e6)
                out.append(CallView(call_uuid, CallStage.QUEUED, age))
            else:
                age = max(0.0, now_s - self.launched_s.get(call_uuid, now_s))
                out.append(CallView(call_uuid, CallStage.RINGING, age))
        for call_uuid, at_s in sorted(self.launched_s.items()):
            if call_uuid in live:
                continue
            if call_uuid in self.seen or now_s - at_s > self.unseen_grace_s:
                del self.launched_s[call_uuid]
                self.seen.discard(call_uuid)
                continue
            out.append(CallView(call_uuid, CallStage.RINGING, max(0.0, now_s - at_s)))
        return tuple(out)


def outcomes_of(ended: EndedAttempt, wrap_s: float = 0.0) -> list[Outcome]:
    """What one ended attempt teaches the pacer; ``wrap_s`` is the wrap-up of the agent who
    took the call. Abandons reach it through the budget, and calls the switch refused
    (``not_dialled``) or lost say nothing about callees."""
    return [outcome for _, outcome in timed_outcomes_of(ended, wrap_s)]


def timed_outcomes_of(ended: EndedAttempt, wrap_s: float = 0.0) -> list[tuple[float, Outcome]]:
    """`outcomes_of` with the moment (s since the epoch) each became known: an answer when it
    happened, everything else at the end of the attempt (a handled call at its hangup)."""
    end_s = ended.ended_at.timestamp()
    rang_s = (ended.answered_at or ended.ended_at) - ended.originated_at
    after_s = max(0.0, rang_s.total_seconds())
    if ended.outcome == "answering_machine":
        return [(end_s, Outcome(OutcomeKind.MACHINE, after_s=after_s))]
    if ended.outcome in _UNANSWERED:
        return [(end_s, Outcome(OutcomeKind.NO_ANSWER, after_s=after_s))]
    if ended.answered_at is None:
        return []
    answered = (ended.answered_at.timestamp(), Outcome(OutcomeKind.ANSWERED, after_s=after_s))
    if ended.connected_at is None:
        return [answered]
    talk_s = max(0.0, (ended.ended_at - ended.connected_at).total_seconds())
    return [answered, (end_s, Outcome(OutcomeKind.HANDLED, talk_s=talk_s, wrap_s=wrap_s))]


def answer_of(call: CallState, launched_s: float | None) -> tuple[float, Outcome] | None:
    """A call the listener saw answered by a person (its live state has the answer time),
    launched at ``launched_s``: the answer to learn now, with its moment; None if the call is
    not answered, a machine, or its launch time is unknown (learnt at hangup then)."""
    if not call.answered_at_us or call.machine or launched_s is None:
        return None
    at_s = call.answered_at_us / 1e6
    return at_s, Outcome(OutcomeKind.ANSWERED, after_s=max(0.0, at_s - launched_s))


def wrap_up_by_agent(agents: Iterable[AgentState]) -> dict[str, float]:
    """Agent name -> its configured wrap-up time (s), for the outcomes of its calls."""
    return {a.name: a.wrap_up_s for a in agents}


def answered_by_person(ended: EndedAttempt) -> bool:
    return ended.answered_at is not None and ended.outcome != "answering_machine"
