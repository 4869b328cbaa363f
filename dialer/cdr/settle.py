"""An attempt settled from durable records rather than from its events.

* `end_from_cdr`: the switch's CDR of the customer leg -> the attempt's `CallEnd`, through
  the one outcome rule of `dialer.calls.machine` (answered and bridged to an agent ->
  connected; answered, queued and cancelled (``cc_cancel_reason``) -> abandoned; the hangup
  cause, SIP status and Q.850 code otherwise). What the listener saw before it lost the call
  (``seen``) fills what the CDR lacks; the CDR wins where both speak.
* `unsettled_end`: a call gone from its switch with no event and no CDR after the bounded
  wait. Its originate reported a failure (a ``-ERR`` job result: never answered) -> that
  failure's outcome, from what was seen. Seen bridged to an agent -> connected (the
  customer talked to one). Seen only ringing (never answered) on a switch that has
  restarted since (its Core-UUID changed, so a killed FreeSWITCH will never post the CDR)
  -> not counted, like a call the node refused.
  Anything else -> ``unsettled``: recorded ``unknown``, its lead held, never redialled
  automatically (the customer may have talked to an agent).

Pure.
"""

from __future__ import annotations

from dataclasses import replace

from dialer.calls.machine import CallEnd, CallState, call_end_of
from dialer.cdr.parse import CdrFacts

__all__ = ["LOST_CAUSE", "SWITCH_RESTARTED_CAUSE", "end_from_cdr", "unsettled_end"]

LOST_CAUSE = "LOST"
SWITCH_RESTARTED_CAUSE = "SWITCH_RESTARTED"


def end_from_cdr(facts: CdrFacts, seen: CallState | None = None) -> CallEnd:
    """The attempt's end as its CDR tells it (``seen``: the listener's state of the call)."""
    state = seen or CallState(facts.call_uuid)
    connected_us = facts.bridged_us if facts.agent_bridged else 0
    state = replace(
        state,
        campaign_id=facts.campaign_id if facts.campaign_id is not None else state.campaign_id,
        lead_id=facts.lead_id if facts.lead_id is not None else state.lead_id,
        attempt_id=facts.attempt_id if facts.attempt_id is not None else state.attempt_id,
        trunk=facts.trunk or state.trunk,
        dialed_number=state.dialed_number or facts.dialed_number,
        recording_path=facts.recording_path or state.recording_path,
        created=True,
        progressed=state.progressed or facts.progress_us > 0,
        answered_at_us=facts.answered_us or state.answered_at_us,
        connected_at_us=connected_us or state.connected_at_us,
        agent=facts.agent or state.agent,
        cancel_reason=facts.cancel_reason or state.cancel_reason,
        machine=facts.machine or state.machine,
        core_uuid=facts.core_uuid or state.core_uuid,
    )
    return call_end_of(
        state,
        facts.hangup_cause or LOST_CAUSE,
        facts.ended_us,
        sip_status=facts.sip_status,
        q850=facts.hangup_cause_q850,
    )


def unsettled_end(state: CallState, now_us: int, *, switch_restarted: bool) -> CallEnd:
    """The end of a call its switch no longer has, with no CDR after the wait."""
    if state.connected_at_us:
        return call_end_of(state, LOST_CAUSE, now_us)
    if state.job_error and not state.answered_at_us:
        return call_end_of(state, state.job_error, now_us)
    if switch_restarted and not state.answered_at_us:
        end = call_end_of(state, SWITCH_RESTARTED_CAUSE, now_us)
        return replace(
            end,
            outcome=None,
            abandoned=False,
            disposition="ringing when its switch restarted: not counted",
        )
    end = call_end_of(state, LOST_CAUSE, now_us)
    return replace(
        end,
        outcome=None,
        abandoned=False,
        unsettled=True,
        disposition="no event, channel or CDR: unknown, lead held",
    )
