"""Call state machine: switch events of one originated call -> one `CallEnd`.

A call is keyed by its pre-assigned ``origination_uuid`` (the customer leg's Unique-ID).
Events are attributed to it as follows (transcripts a, b, c, d*, e, h, j, t):

* channel events whose Unique-ID is the call uuid (agent legs carry the same ``dialer_*``
  variables through ``cc_export_vars`` but also ``cc_member_session_uuid``/``cc_side=agent``
  and are skipped);
* ``CUSTOM callcenter::info`` by ``CC-Member-Session-UUID``;
* ``BACKGROUND_JOB`` by the registered Job-UUID, else by the ``origination_uuid=`` in
  ``Job-Command-Arg``.

The call ends at the customer leg's CHANNEL_HANGUP_COMPLETE, or at a ``-ERR`` job result
when no channel was ever created (GATEWAY_DOWN, node limits). BACKGROUND_JOB may come
before or after the hangup events; both orders give the same result.

A book that was not watching when a call began (the listener (re)connected while it rang)
cannot tell from a ``-ERR NO_ANSWER`` job result alone whether the far end rang (its
CHANNEL_PROGRESS may have gone by unseen): such a call is held (``start_unseen``) for its
hangup event, or for the reconciliation to settle it from its CDR. `CallBook.watching_since`
says from when the book has seen everything.

Pure and deterministic: ``CallBook.apply`` is the only mutator and touches only its dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from campaigns.domain import AttemptOutcome
from dialer.calls.agent_first import AgentFirstEnd, AgentFirstState, customer_leg_of, is_agent_leg
from dialer.calls.agent_first import step as agent_first_step
from dialer.calls.causes import BACKPRESSURE_CAUSES, unanswered_outcome
from dialer.esl.events import Event, parse_result
from dialer.esl.originate import VAR_CALL

CC_SUBCLASS = "callcenter::info"
_ORIGINATION_UUID_RE = re.compile(r"origination_uuid=([0-9a-fA-F-]{36})")
_JOB_ID_RE = re.compile(r"dialer_(campaign|lead|attempt)_id=([0-9]+)")
_JOB_GATEWAY_RE = re.compile(r"\}sofia/gateway/([A-Za-z0-9_.-]+)/")
_JOB_TIMEOUT_RE = re.compile(r"originate_timeout=([0-9]+)")
# FreeSWITCH's own originate timeout when the command sets none (switch_ivr_originate.c)
_DEFAULT_ORIGINATE_TIMEOUT_S = 60
# Failure causes whose outcome depends on what the leg's channel events said (progress, SIP
# status: `dialer.calls.causes.unanswered_outcome`); any other job failure ends its call alike
# whether or not a channel was seen, so it is never held (refusals free their lines at once).
_OUTCOME_NEEDS_CHANNEL = frozenset({"NO_ANSWER"})
# what an originate may take beyond its ringing: channel setup, the job thread's start
_ORIGINATE_SETUP_S = 10
_FINISHED_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class CallState:
    """What has been seen of one call so far (times in µs since the epoch, 0 = not yet)."""

    call_uuid: str
    campaign_id: int | None = None
    lead_id: int | None = None
    attempt_id: int | None = None
    trunk: str = ""
    dialed_number: str = ""
    recording_path: str = ""
    created: bool = False
    progressed: bool = False
    answered_at_us: int = 0
    queued_at_us: int = 0
    connected_at_us: int = 0
    agent: str = ""
    cancel_reason: str = ""
    job_error: str = ""
    machine: bool = False
    core_uuid: str = ""  # the switch run (Core-UUID) the call's first event came from
    # first met as a -ERR job result that may have begun before the book was watching:
    # whether a channel existed is not known
    start_unseen: bool = False


@dataclass(frozen=True, slots=True)
class CallEnd:
    """The final word on one attempt. ``outcome`` None: the node refused to dial (no
    attempt is counted, the lead goes back as it was)."""

    call_uuid: str
    campaign_id: int | None
    lead_id: int | None
    attempt_id: int | None
    outcome: AttemptOutcome | None
    disposition: str
    hangup_cause: str
    abandoned: bool
    trunk: str = ""
    agent: str = ""
    dialed_number: str = ""
    recording_path: str = ""
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    sip_status: str = ""  # the final SIP code received (``sip_term_status``), "" if none
    hangup_cause_q850: int | None = None  # ``hangup_cause_q850``; None when no channel ended
    # nothing settled the call in time (no event, channel list or CDR): ``outcome`` is None
    # but, unlike a refusal, the customer may have been reached; see `dialer.cdr.settle`
    unsettled: bool = False


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _when(us: int) -> datetime | None:
    return datetime.fromtimestamp(us / 1_000_000, UTC) if us else None


def _is_agent_leg(event: Event) -> bool:
    return bool(event.var("cc_member_session_uuid")) or event.var("cc_side") == "agent"


@dataclass
class CallBook:
    """The calls of one node in flight; feed every event to `apply`."""

    calls: dict[str, CallState] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)
    # agent-first calls in flight (click-to-call, reserved callbacks), by agent leg uuid
    agent_first: dict[str, AgentFirstState] = field(default_factory=dict)
    # ended calls, oldest first: their late events (BACKGROUND_JOB after the hangup) are ignored
    finished: dict[str, None] = field(default_factory=dict)
    # switch time (µs) from which every event reached the book; 0: since the call began
    watched_since_us: int = 0

    def watching_since(self, timestamp_us: int) -> None:
        """The book sees every event from ``timestamp_us`` (switch time) on: the first event
        after a (re)connect."""
        self.watched_since_us = timestamp_us

    def expect(self, call_uuid: str, job_uuid: str = "") -> None:
        """Track a call before its first event (the originator knows its uuid)."""
        self.calls.setdefault(call_uuid, CallState(call_uuid))
        if job_uuid:
            self.jobs[job_uuid] = call_uuid

    def call_uuid_of(self, event: Event) -> str:
        """The call an event belongs to, or "" when it is not a call's event."""
        name = event.name
        if name == "BACKGROUND_JOB":
            known = self.jobs.get(event.get("Job-UUID"), "")
            if known or event.get("Job-Command") != "originate":
                return known
            if f"{VAR_CALL}=" in event.get("Job-Command-Arg"):
                return ""  # an agent-first call's: `apply_agent_first`
            found = _ORIGINATION_UUID_RE.search(event.get("Job-Command-Arg"))
            return found.group(1).lower() if found else ""
        if name == "CUSTOM":
            return event.get("CC-Member-Session-UUID") if event.subclass == CC_SUBCLASS else ""
        if name.startswith("CHANNEL_") and not _is_agent_leg(event):
            return event.uuid
        return ""

    def apply(self, event: Event) -> CallEnd | None:
        """Update the call the event belongs to; its `CallEnd` once it is over."""
        key = self.call_uuid_of(event)
        if not key or key in self.finished:
            return None
        state = self.calls.get(key)
        if state is None:
            if not event.var("dialer_attempt_id") and event.name != "BACKGROUND_JOB":
                return None  # not one of ours
            state = CallState(key, start_unseen=self._began_unseen(event))
        state = _with_ids(state, event)
        if not state.core_uuid and event.get("Core-UUID"):
            state = replace(state, core_uuid=event.get("Core-UUID"))
        end: CallEnd | None
        state, end = _step(state, event)
        if end is None:
            self.calls[key] = state
        else:
            self._forget(key)
        return end

    def _began_unseen(self, event: Event) -> bool:
        """A job result that is the first the book hears of its call, for an originate that
        may have started before the book was watching."""
        if event.name != "BACKGROUND_JOB" or not self.watched_since_us:
            return False
        result = parse_result(event.body or "")
        if result.ok or (result.detail or result.text) not in _OUTCOME_NEEDS_CHANNEL:
            return False
        found = _JOB_TIMEOUT_RE.search(event.get("Job-Command-Arg"))
        ringing_s = int(found.group(1)) if found else _DEFAULT_ORIGINATE_TIMEOUT_S
        began_us = event.timestamp_us - (ringing_s + _ORIGINATE_SETUP_S) * 1_000_000
        return began_us <= self.watched_since_us

    def agent_first_key(self, event: Event) -> str:
        """The agent-first call an event belongs to (its agent leg's uuid), or ""."""
        name = event.name
        if name == "BACKGROUND_JOB":
            arg = event.get("Job-Command-Arg")
            if event.get("Job-Command") != "originate" or f"{VAR_CALL}=" not in arg:
                return ""
            found = _ORIGINATION_UUID_RE.search(arg)
            return found.group(1).lower() if found else ""
        if not name.startswith("CHANNEL_"):
            return ""
        if is_agent_leg(event):
            return event.uuid
        origin = customer_leg_of(event)
        return origin if origin in self.agent_first else ""

    def apply_agent_first(self, event: Event) -> AgentFirstEnd | None:
        """Update the agent-first call the event belongs to (`dialer.calls.agent_first`);
        its end once it is over. Events of other calls change nothing."""
        key = self.agent_first_key(event)
        if not key or key in self.finished:
            return None
        state = self.agent_first.get(key) or AgentFirstState(key)
        state, end = agent_first_step(state, event)
        if end is None:
            self.agent_first[key] = state
        else:
            self.agent_first.pop(key, None)
            self._forget(key)
        return end

    def _forget(self, key: str) -> None:
        self.calls.pop(key, None)
        for job, call in list(self.jobs.items()):
            if call == key:
                del self.jobs[job]
        self.finished[key] = None
        if len(self.finished) > _FINISHED_KEPT:
            del self.finished[next(iter(self.finished))]

    def close(self, call_uuid: str) -> None:
        """Stop tracking a call settled without its hangup event (from its CDR, or by the
        reconciliation); its late events are ignored like those of a call that ended here."""
        self._forget(call_uuid)


def _with_ids(state: CallState, event: Event) -> CallState:
    if state.attempt_id is not None:
        return state
    if event.name == "BACKGROUND_JOB":
        ids = dict(_JOB_ID_RE.findall(event.get("Job-Command-Arg")))
        if "attempt" not in ids:
            return state
        gateway = _JOB_GATEWAY_RE.search(event.get("Job-Command-Arg"))
        return replace(
            state,
            campaign_id=_int(ids.get("campaign", "")),
            lead_id=_int(ids.get("lead", "")),
            attempt_id=_int(ids["attempt"]),
            trunk=state.trunk or (gateway.group(1) if gateway else ""),
        )
    if not event.var("dialer_attempt_id"):
        return state
    return replace(
        state,
        campaign_id=_int(event.var("dialer_campaign_id")),
        lead_id=_int(event.var("dialer_lead_id")),
        attempt_id=_int(event.var("dialer_attempt_id")),
        trunk=event.var("sip_gateway_name") or state.trunk,
        recording_path=event.var("dialer_recording_path"),
    )


def _step(state: CallState, event: Event) -> tuple[CallState, CallEnd | None]:
    name = event.name
    ts = event.timestamp_us
    if name == "BACKGROUND_JOB":
        result = parse_result(event.body or "")
        if result.ok:
            # ignore_early_media=true: +OK only once the customer answered
            return replace(state, created=True, answered_at_us=state.answered_at_us or ts), None
        state = replace(state, job_error=result.detail or result.text)
        if not state.created and not state.start_unseen:
            return state, _finish(state, state.job_error, ts, sip_status="", q850=None)
        return state, None
    if name == "CUSTOM":
        return _cc_step(state, event, ts), None
    if name.startswith("CHANNEL_"):
        # any event of the leg shows its channel exists, and carries its progress time: a
        # listener that (re)connected mid-call learns both from the first one it sees
        progress_us = _int(event.get("Caller-Channel-Progress-Time")) or 0
        state = replace(state, created=True, progressed=state.progressed or progress_us > 0)
    if name == "CHANNEL_CREATE":
        # the dialled number before the dialplan rewrites Caller-Destination-Number
        dialed = state.dialed_number or event.get("Caller-Destination-Number")
        return replace(state, created=True, dialed_number=dialed), None
    if name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA"):
        return replace(state, created=True, progressed=True), None
    if name == "CHANNEL_ANSWER":
        return replace(state, created=True, answered_at_us=state.answered_at_us or ts), None
    if name == "CHANNEL_HANGUP_COMPLETE":
        answered_us = _int(event.get("Caller-Channel-Answered-Time")) or 0
        progress_us = _int(event.get("Caller-Channel-Progress-Time")) or 0
        state = replace(
            state,
            created=True,
            progressed=state.progressed or progress_us > 0,
            answered_at_us=state.answered_at_us or answered_us,
            # the leg's own record of its agent bridge: a listener that missed
            # bridge-agent-start (down, or restarted mid-call) still sees the connection,
            # and one that saw it for a caller gone before the bridge sees none
            connected_at_us=0
            if _never_bridged(event)
            else state.connected_at_us or _agent_bridged_us(event),
            cancel_reason=state.cancel_reason or event.var("cc_cancel_reason"),
            agent=state.agent or event.var("cc_agent"),
            machine=state.machine or event.var("amd_result").upper() == "MACHINE",
        )
        cause = event.get("Hangup-Cause") or state.job_error
        sip_status = event.var("sip_term_status")
        q850 = _int(event.var("hangup_cause_q850"))
        return state, _finish(state, cause, ts, sip_status=sip_status, q850=q850)
    return state, None


def _never_bridged(event: Event) -> bool:
    """The leg's hangup says it was never bridged: no ``cc_agent_bridged=true`` and a
    ``Caller-Channel-Bridged-Time`` of 0. mod_callcenter announces bridge-agent-start when
    the agent answers, before it bridges the caller; a caller who hung up in between was
    never connected (its bridge-agent-end says ``CC-Agent-Bridged: false``)."""
    bridged_time = event.get("Caller-Channel-Bridged-Time", "")
    return bridged_time == "0" and event.var("cc_agent_bridged") != "true"


def _agent_bridged_us(event: Event) -> int:
    """When mod_callcenter bridged the customer leg to an agent, from the leg's variables
    (``cc_agent_bridged=true``, ``bridge_uepoch``; transcripts a, t); 0 if it never was."""
    if event.var("cc_agent_bridged") != "true":
        return 0
    return (
        _int(event.var("bridge_uepoch"))
        or _int(event.get("Caller-Channel-Bridged-Time"))
        or event.timestamp_us
    )


def _cc_step(state: CallState, event: Event, ts: int) -> CallState:
    action = event.get("CC-Action")
    if action == "member-queue-start":
        return replace(state, queued_at_us=state.queued_at_us or ts)
    if action == "bridge-agent-start":
        return replace(
            state, connected_at_us=state.connected_at_us or ts, agent=event.get("CC-Agent")
        )
    if action == "member-queue-end" and event.get("CC-Cause") == "Cancel":
        return replace(state, cancel_reason=event.get("CC-Cancel-Reason"))
    return state


def _finish(
    state: CallState, cause: str, ended_us: int, sip_status: str, q850: int | None
) -> CallEnd:
    abandoned = False
    outcome: AttemptOutcome | None
    if state.connected_at_us:
        outcome, disposition = AttemptOutcome.CONNECTED, f"connected to {state.agent}"
    elif state.answered_at_us and state.machine:
        outcome, disposition = AttemptOutcome.ANSWERING_MACHINE, "answering machine"
    elif state.answered_at_us:
        abandoned = True
        reason = state.cancel_reason or "no queue"
        outcome, disposition = AttemptOutcome.ABANDONED, f"answered, no agent ({reason})"
    elif cause in BACKPRESSURE_CAUSES and not state.created:
        outcome, disposition = None, f"refused by the node ({cause})"
    else:
        outcome = unanswered_outcome(cause, progressed=state.progressed, sip_status=sip_status)
        detail = f" (SIP {sip_status})" if sip_status else ""
        disposition = f"{cause}{detail}"
    return CallEnd(
        call_uuid=state.call_uuid,
        campaign_id=state.campaign_id,
        lead_id=state.lead_id,
        attempt_id=state.attempt_id,
        outcome=outcome,
        disposition=disposition,
        hangup_cause=cause,
        abandoned=abandoned,
        trunk=state.trunk,
        agent=state.agent,
        dialed_number=state.dialed_number,
        recording_path=state.recording_path,
        answered_at=_when(state.answered_at_us),
        connected_at=_when(state.connected_at_us),
        ended_at=_when(ended_us),
        sip_status=sip_status,
        hangup_cause_q850=q850,
    )


def call_end_of(
    state: CallState, cause: str, ended_us: int, sip_status: str = "", q850: int | None = None
) -> CallEnd:
    """The `CallEnd` of a call seen as ``state`` that ended with ``cause`` at ``ended_us``:
    the one outcome rule, for what another record (a CDR) says of the call."""
    return _finish(state, cause, ended_us, sip_status=sip_status, q850=q850)


def as_call_end(end: AgentFirstEnd) -> CallEnd:
    """The customer leg of an agent-first call as a campaign call's `CallEnd` (no campaign,
    lead or attempt), for what reads any call's end alike: the trunk's health."""
    return CallEnd(
        call_uuid=end.call_uuid,
        campaign_id=None,
        lead_id=None,
        attempt_id=None,
        outcome=end.outcome,
        disposition=end.disposition,
        hangup_cause=end.hangup_cause,
        abandoned=False,
        trunk=end.trunk,
        answered_at=end.answered_at,
        connected_at=end.connected_at,
        ended_at=end.ended_at,
        sip_status=end.sip_status,
        hangup_cause_q850=end.hangup_cause_q850,
    )
