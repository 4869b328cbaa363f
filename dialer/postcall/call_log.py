"""The record of the calls made, as people look it up (``dialer calls list``, ``calls show``):
which calls to list, one line per call, and one call's whole record. Pure.

Times are aware UTC; None for a moment that never came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.domain import NOT_DIALLED, UNSETTLED, AttemptOutcome

DEFAULT_CALLS_LISTED = 50
MAX_CALLS_LISTED = 10_000
KNOWN_OUTCOMES = (*(o.value for o in AttemptOutcome), NOT_DIALLED, UNSETTLED)


class CallLogError(Exception):
    """A lookup that cannot be answered; the message names the problem."""


@dataclass(frozen=True, slots=True)
class CallQuery:
    """The ``limit`` newest calls originated at or after ``since`` (all when None), of
    ``campaign`` (a name) and with ``outcome`` (a `KNOWN_OUTCOMES` value) when given."""

    campaign: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    limit: int = DEFAULT_CALLS_LISTED


def call_query(
    campaign: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_CALLS_LISTED,
) -> CallQuery:
    """A `CallQuery`, or `CallLogError` naming the filter that cannot match anything."""
    if outcome is not None and outcome not in KNOWN_OUTCOMES:
        known = ", ".join(KNOWN_OUTCOMES)
        raise CallLogError(f"unknown outcome {outcome!r} (one of: {known})")
    if not 1 <= limit <= MAX_CALLS_LISTED:
        raise CallLogError(f"--limit must be between 1 and {MAX_CALLS_LISTED}, not {limit}")
    if since is not None and since.tzinfo is None:
        raise CallLogError(f"--since {since.isoformat()} has no time zone offset")
    return CallQuery(campaign, outcome, since, limit)


@dataclass(frozen=True, slots=True)
class CallLine:
    """One call as a list shows it: ``outcome`` None while it is in progress; ``trunk``,
    ``hangup_cause`` None when the switch never said."""

    call_uuid: str
    campaign: str
    number: str
    outcome: str | None
    trunk: str | None
    hangup_cause: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookState:
    """The delivery of the call's webhook: ``state`` ``retrying``, ``delivered`` or
    ``failed`` after ``tries`` tries; ``status_code`` None when the last try got no HTTP
    response (``error`` says why)."""

    url: str
    state: str
    tries: int
    status_code: int | None
    error: str
    last_try_at: datetime
    next_try_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call whole: its line, how it went, why it ended (the switch's hangup cause, its
    Q.850 code, the final SIP status), its disposition and its webhook (None: not sent)."""

    line: CallLine
    lead_id: int
    attempt_no: int
    node: str | None
    agent: str | None
    abandoned: bool
    answered_at: datetime | None
    connected_at: datetime | None
    hangup_cause_q850: int | None
    sip_status: str | None
    disposition: str | None
    disposition_note: str | None
    disposition_at: datetime | None
    callback_at: datetime | None
    webhook: WebhookState | None


def matches(line: CallLine, query: CallQuery) -> bool:
    """Whether ``line`` passes the filters of ``query`` (its limit aside)."""
    return (
        (query.campaign is None or line.campaign == query.campaign)
        and (query.outcome is None or line.outcome == query.outcome)
        and (query.since is None or line.started_at >= query.since)
    )
