"""Hangup causes of an unanswered customer leg -> `campaigns.domain.AttemptOutcome`.

From the transcripts (b, c, d, d2, d3, o, p): SIP 486 -> ``USER_BUSY``; 180 then
``originate_timeout`` -> ``NO_ANSWER`` (with ``Caller-Channel-Progress-Time`` set); a trunk
that never answers the INVITE -> ``NO_ANSWER`` with no progress and no SIP status (d3, a
trunk failure, not the lead's); 503 / ICMP unreachable -> ``NORMAL_TEMPORARY_FAILURE``;
gateway down -> ``GATEWAY_DOWN``; 404 -> ``UNALLOCATED_NUMBER``; 480 ->
``NO_USER_RESPONSE``; 603 -> ``CALL_REJECTED``; 487 -> ``ORIGINATOR_CANCEL``; our own
``uuid_kill`` while ringing -> ``NORMAL_CLEARING``. A node over its sessions-per-second or
max-sessions limit answers ``-ERR DESTINATION_OUT_OF_ORDER`` without creating a channel:
that is back-pressure (`BACKPRESSURE_CAUSES`), not an outcome of the lead.

Pure.
"""

from __future__ import annotations

from campaigns.domain import AttemptOutcome

BACKPRESSURE_CAUSES = frozenset({"DESTINATION_OUT_OF_ORDER"})

_UNANSWERED: dict[str, AttemptOutcome] = {
    "USER_BUSY": AttemptOutcome.BUSY,
    "NO_ANSWER": AttemptOutcome.NO_ANSWER,
    "NO_USER_RESPONSE": AttemptOutcome.NO_ANSWER,
    "ORIGINATOR_CANCEL": AttemptOutcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": AttemptOutcome.NO_ANSWER,
    "NORMAL_CLEARING": AttemptOutcome.NO_ANSWER,
    "SUBSCRIBER_ABSENT": AttemptOutcome.NO_ANSWER,
    "CALL_REJECTED": AttemptOutcome.REJECTED,
    "USER_CHALLENGE": AttemptOutcome.REJECTED,
    "UNALLOCATED_NUMBER": AttemptOutcome.INVALID_NUMBER,
    "NO_ROUTE_DESTINATION": AttemptOutcome.INVALID_NUMBER,
    "INVALID_NUMBER_FORMAT": AttemptOutcome.INVALID_NUMBER,
    "NUMBER_CHANGED": AttemptOutcome.INVALID_NUMBER,
    "INCOMPATIBLE_DESTINATION": AttemptOutcome.INVALID_NUMBER,
}


def unanswered_outcome(cause: str, *, progressed: bool, sip_status: str) -> AttemptOutcome:
    """The outcome of a customer leg that never answered.

    ``progressed``: the far end sent any provisional response with ringing/media (a
    CHANNEL_PROGRESS event or a ``Caller-Channel-Progress-Time``); ``sip_status`` the
    final SIP code received (``variable_sip_term_status``), empty if none. Anything not
    listed is a trunk failure (``FAILED``).
    """
    if cause == "NO_ANSWER" and not progressed and not sip_status:
        return AttemptOutcome.FAILED  # the trunk never answered the INVITE (transcript d3)
    return _UNANSWERED.get(cause, AttemptOutcome.FAILED)
