"""Plain data exchanged with a pacer: the snapshot in, the decision out, outcomes fed back.

All times are seconds. A snapshot is a picture of one campaign at one instant; the pacer keeps
no clock of its own, so the same snapshot and the same history of outcomes always give the same
decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class AgentPhase(StrEnum):
    """What an agent can do for the campaign right now (see ``phase_from_callcenter``)."""

    READY = "ready"  # may take a call this instant
    OFFERED = "offered"  # a call is being offered to the agent (mod_callcenter "Receiving")
    PREVIEWING = "previewing"  # preview mode: the agent's own lead is ringing
    TALKING = "talking"  # in a queue call
    WRAP_UP = "wrap_up"  # call ended, not yet ready again (mod_callcenter ready_time ahead)
    AWAY = "away"  # on break, logged out, or not taking calls


class CallStage(StrEnum):
    """Stage of an outbound call that has not yet reached an agent."""

    RINGING = "ringing"  # originated, no answer yet
    QUEUED = "queued"  # answered by a person, waiting for an agent (abandons after the grace)


class Mode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class OutcomeKind(StrEnum):
    ANSWERED = "answered"  # a person answered after ``after_s`` of ringing
    NO_ANSWER = "no_answer"  # ended unanswered after ``after_s`` (timeout, busy, rejected)
    MACHINE = "machine"  # an answering machine picked up after ``after_s``
    ABANDONED = "abandoned"  # an answered person reached no agent within the grace
    HANDLED = "handled"  # an agent finished: ``talk_s`` talking then ``wrap_s`` wrap-up


class AgentView(NamedTuple):
    """One agent: its phase and how long it has been in that phase (``in_phase_s`` >= 0)."""

    agent_id: str
    phase: AgentPhase
    in_phase_s: float


class CallView(NamedTuple):
    """One call not yet connected to an agent; ``age_s`` counts from the start of its stage."""

    call_id: str
    stage: CallStage
    age_s: float


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits on launches.

    ``max_lines_per_agent`` bounds calls not yet connected (ringing + queued) per staffed agent
    (any agent not AWAY); ``trunk_free_lines`` is what routing can still carry; ``leads_due`` is
    the number of leads that may be dialled now; ``dialing_allowed`` is False outside the calling
    window or while the campaign is paused.
    """

    max_lines_per_agent: float = 4.0
    trunk_free_lines: int = 1_000_000
    leads_due: int = 1_000_000
    dialing_allowed: bool = True


@dataclass(frozen=True, slots=True)
class AbandonBudget:
    """The legal abandon limit and what the campaign has used of it in the current window.

    ``target`` is a fraction (0.03 = 3 %) of answered-by-a-person calls; ``window_s`` is the legal
    window (30 days FTC/FCC, 1 day Ofcom); the counts are those inside that window so far.
    """

    target: float = 0.03
    window_s: float = 30 * 86_400.0
    answered_in_window: int = 0
    abandoned_in_window: int = 0
    grace_s: float = 2.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a pacer may look at for one decision."""

    agents: tuple[AgentView, ...]
    calls: tuple[CallView, ...]
    limits: Limits = field(default_factory=Limits)
    budget: AbandonBudget = field(default_factory=AbandonBudget)
    no_answer_timeout_s: float = 25.0
    due_lead_ids: tuple[str, ...] = ()  # preview mode: leads in dialling order


@dataclass(frozen=True, slots=True)
class Assignment:
    agent_id: str
    lead_id: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Calls to launch now (``launch`` >= 0); in preview mode also who dials which lead.

    ``expected_abandons`` is the pacer's own estimate of the abandons its launches add (0 when
    it has no model), reported for charts and logs only.
    """

    launch: int
    assignments: tuple[Assignment, ...] = ()
    expected_abandons: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    after_s: float = 0.0
    talk_s: float = 0.0
    wrap_s: float = 0.0


def phase_from_callcenter(status: str, state: str, seconds_to_ready: float) -> AgentPhase:
    """Map a mod_callcenter agent (status, state, ready_time - now) to a phase.

    ``status`` is one of Logged Out, Available, Available (On Demand), On Break; ``state`` one of
    Idle, Waiting, Receiving, In a queue call. A Waiting agent whose ready_time is still ahead
    is in wrap-up.

    An agent who will not be free after its call is AWAY already during it: one set On Break or
    Logged Out while In a queue call (mod_callcenter changes the status at once, sending an
    agent-status-change, and only the state after the call), and one Available (On Demand),
    whom mod_callcenter sets Idle after the call instead of Waiting.
    """
    if status not in ("Available", "Available (On Demand)"):
        return AgentPhase.AWAY
    if state == "In a queue call":
        return AgentPhase.AWAY if status == "Available (On Demand)" else AgentPhase.TALKING
    if state == "Receiving":
        return AgentPhase.OFFERED
    if state == "Waiting":
        return AgentPhase.WRAP_UP if seconds_to_ready > 0 else AgentPhase.READY
    return AgentPhase.AWAY
