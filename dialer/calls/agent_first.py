"""Agent-first calls (click-to-call, reserved callbacks): the events of the two legs of one
``originate <agent> &bridge(<customer>)`` -> one `CallEnd` (transcripts u1, u2, u3).

The call is keyed by the agent leg's pre-assigned ``origination_uuid``. Its events:

* the agent leg's channel events carry ``variable_dialer_call_id`` (the API call's id);
* the customer leg (the bridge's b-leg) carries none of the originate's variables: it is
  known by ``variable_originator`` (the agent leg's uuid; also its Other-Leg-Unique-ID);
* ``BACKGROUND_JOB`` (by the ``origination_uuid=`` in ``Job-Command-Arg``): ``+OK`` when the
  agent answered, ``-ERR <cause>`` when the agent leg never answered (u3) or was refused.

The call ends at the agent leg's CHANNEL_HANGUP_COMPLETE (it is the last leg to go in u1,
u2; when the agent hangs up first the customer leg goes with it), or at a ``-ERR`` job result
when no channel was ever created. Outcome: ``connected`` once the customer answered (the
bridge connects the answered customer at once); the customer's unanswered outcome (busy, no
answer, failed ...) when the agent answered and the customer did not; None (not a customer
attempt) when the agent never answered, with ``agent_answered_at`` None, or when the node
refused the originate.

Pure and deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from campaigns.domain import AttemptOutcome
from dialer.calls.causes import unanswered_outcome
from dialer.esl.events import Event, parse_result
from dialer.esl.originate import VAR_CALL

__all__ = [
    "AgentFirstEnd",
    "AgentFirstState",
    "agent_first_end",
    "customer_leg_of",
    "is_agent_leg",
    "lost_end",
    "step",
]

_GATEWAY_RE = re.compile(r"sofia/gateway/([A-Za-z0-9_.-]+)/")
AGENT_NOT_ANSWERED = "agent did not answer"


@dataclass(frozen=True, slots=True)
class AgentFirstState:
    """What has been seen of one agent-first call (times µs since the epoch, 0 = not yet)."""

    call_uuid: str
    call_id: int | None = None
    core_uuid: str = ""
    agent_created: bool = False
    agent_answered_at_us: int = 0
    customer_uuid: str = ""
    trunk: str = ""
    dialed_number: str = ""
    customer_progressed: bool = False
    customer_answered_at_us: int = 0
    customer_cause: str = ""
    sip_status: str = ""
    q850: int | None = None
    job_error: str = ""


@dataclass(frozen=True, slots=True)
class AgentFirstEnd:
    """The final word on an agent-first call; ``outcome`` None: no customer attempt."""

    call_uuid: str
    call_id: int | None
    outcome: AttemptOutcome | None
    disposition: str
    hangup_cause: str
    trunk: str
    dialed_number: str
    agent_answered_at: datetime | None
    answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None
    sip_status: str
    hangup_cause_q850: int | None
    # the switch no longer has the call and its end was never seen: how it went is unknown
    unsettled: bool = False


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _when(us: int) -> datetime | None:
    return datetime.fromtimestamp(us / 1_000_000, UTC) if us else None


def is_agent_leg(event: Event) -> bool:
    """A channel event of the agent leg of an agent-first call."""
    return bool(event.var(VAR_CALL))


def customer_leg_of(event: Event) -> str:
    """The agent leg a bridge's b-leg event belongs to ("" when it is no b-leg)."""
    return event.var("originator")


def _gateway(text: str) -> str:
    found = _GATEWAY_RE.search(text)
    return found.group(1) if found else ""


def step(state: AgentFirstState, event: Event) -> tuple[AgentFirstState, AgentFirstEnd | None]:
    """Fold one event of the call in; its end once the call is over."""
    if not state.core_uuid and event.get("Core-UUID"):
        state = replace(state, core_uuid=event.get("Core-UUID"))
    if event.name == "BACKGROUND_JOB":
        return _job(state, event)
    if event.uuid == state.call_uuid:
        return _agent(state, event)
    return _customer(state, event), None


def _job(state: AgentFirstState, event: Event) -> tuple[AgentFirstState, AgentFirstEnd | None]:
    state = replace(state, trunk=state.trunk or _gateway(event.get("Job-Command-Arg")))
    result = parse_result(event.body or "")
    if result.ok:
        return state, None
    state = replace(state, job_error=result.detail or result.text)
    if not state.agent_created:
        return state, agent_first_end(state, state.job_error, event.timestamp_us)
    return state, None


def _agent(state: AgentFirstState, event: Event) -> tuple[AgentFirstState, AgentFirstEnd | None]:
    name = event.name
    ts = event.timestamp_us
    if state.call_id is None and event.var(VAR_CALL):
        state = replace(state, call_id=_int(event.var(VAR_CALL)))
    state = replace(state, agent_created=True)
    if name == "CHANNEL_ANSWER":
        return replace(state, agent_answered_at_us=state.agent_answered_at_us or ts), None
    if name != "CHANNEL_HANGUP_COMPLETE":
        return state, None
    bridge_args = event.var("last_arg") or event.var("current_application_data")
    bridged_us = _int(event.var("bridge_uepoch")) or _int(event.get("Caller-Channel-Bridged-Time"))
    state = replace(
        state,
        agent_answered_at_us=state.agent_answered_at_us
        or _int(event.get("Caller-Channel-Answered-Time"))
        or 0,
        customer_answered_at_us=state.customer_answered_at_us or bridged_us or 0,
        trunk=state.trunk or _gateway(bridge_args),
    )
    cause = event.get("Hangup-Cause") or state.job_error
    return state, agent_first_end(state, cause, ts)


def _customer(state: AgentFirstState, event: Event) -> AgentFirstState:
    name = event.name
    ts = event.timestamp_us
    state = replace(
        state,
        customer_uuid=state.customer_uuid or event.uuid,
        trunk=state.trunk or event.var("dialer_trunk") or event.var("sip_gateway_name"),
    )
    if name == "CHANNEL_CREATE":
        return replace(
            state, dialed_number=state.dialed_number or event.get("Caller-Destination-Number")
        )
    if name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA"):
        return replace(state, customer_progressed=True)
    if name == "CHANNEL_ANSWER":
        return replace(state, customer_answered_at_us=state.customer_answered_at_us or ts)
    if name == "CHANNEL_HANGUP_COMPLETE":
        return replace(
            state,
            customer_progressed=state.customer_progressed
            or bool(_int(event.get("Caller-Channel-Progress-Time"))),
            customer_answered_at_us=state.customer_answered_at_us
            or _int(event.get("Caller-Channel-Answered-Time"))
            or 0,
            customer_cause=event.get("Hangup-Cause"),
            sip_status=event.var("sip_term_status"),
            q850=_int(event.var("hangup_cause_q850")),
        )
    return state


def agent_first_end(state: AgentFirstState, cause: str, ended_us: int) -> AgentFirstEnd:
    """The end of a call seen as ``state`` whose agent leg ended with ``cause``."""
    outcome: AttemptOutcome | None
    customer_cause = state.customer_cause or cause
    if state.customer_answered_at_us:
        outcome, disposition = AttemptOutcome.CONNECTED, "connected"
    elif state.agent_answered_at_us:
        outcome = unanswered_outcome(
            customer_cause, progressed=state.customer_progressed, sip_status=state.sip_status
        )
        detail = f" (SIP {state.sip_status})" if state.sip_status else ""
        disposition = f"customer {customer_cause}{detail}"
    elif not state.agent_created:
        outcome, disposition = None, f"refused by the node ({cause})"
    else:
        outcome, disposition = None, f"{AGENT_NOT_ANSWERED} ({cause})"
    return AgentFirstEnd(
        call_uuid=state.call_uuid,
        call_id=state.call_id,
        outcome=outcome,
        disposition=disposition,
        hangup_cause=customer_cause if state.agent_answered_at_us else cause,
        trunk=state.trunk,
        dialed_number=state.dialed_number,
        agent_answered_at=_when(state.agent_answered_at_us),
        answered_at=_when(state.customer_answered_at_us),
        connected_at=_when(state.customer_answered_at_us),
        ended_at=_when(ended_us),
        sip_status=state.sip_status,
        hangup_cause_q850=state.q850,
    )


def lost_end(state: AgentFirstState, now_us: int) -> AgentFirstEnd:
    """The end of a call the switch no longer has, whose hangup was never seen."""
    end = agent_first_end(state, "LOST", now_us)
    return replace(end, disposition=f"lost: its end was not seen ({end.disposition})",
                   unsettled=True)  # fmt: skip
