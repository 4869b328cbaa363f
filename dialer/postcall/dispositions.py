"""What a disposition does to its lead. Pure.

A disposition is set once, on the lead's latest attempt, after that attempt ended. It decides
the lead's fate and wins over the automatic retry schedule the listener applied:

* ``sale``, ``completed``: the lead is done;
* ``callback``: the lead is pending again, due at the given time (in the future);
* ``dnc``: the lead is final (``dnc``) and its number goes on the global DNC list (no
  campaign calls it again);
* ``wrong_number``: the lead failed for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from campaigns.domain import LeadStatus


class DispositionError(Exception):
    """A disposition that cannot be applied; the message names the problem."""


class Disposition(StrEnum):
    SALE = "sale"
    COMPLETED = "completed"
    CALLBACK = "callback"
    DNC = "dnc"
    WRONG_NUMBER = "wrong_number"


_FINAL_STATUS = {
    Disposition.SALE: LeadStatus.DONE,
    Disposition.COMPLETED: LeadStatus.DONE,
    Disposition.DNC: LeadStatus.DNC,
    Disposition.WRONG_NUMBER: LeadStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class DispositionRequest:
    """``callback_at`` (aware) only with ``callback``; ``note`` free text."""

    call_uuid: str
    code: Disposition
    callback_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """What the decision needs of the attempt and its lead, read under the lead's row lock.

    ``outcome`` None: the attempt has not ended; ``latest_call_uuid``: the lead's most recent
    attempt; ``disposition``: one set before, if any.
    """

    call_uuid: str
    outcome: str | None
    disposition: str | None
    lead_status: LeadStatus
    latest_call_uuid: str


@dataclass(frozen=True, slots=True)
class LeadChange:
    """The lead's new ``status``; ``next_attempt_at`` None keeps it; ``add_dnc`` puts the
    lead's number on the global DNC list."""

    status: LeadStatus
    next_attempt_at: datetime | None
    add_dnc: bool


def parse_code(text: str) -> Disposition:
    try:
        return Disposition(text.strip().lower())
    except ValueError:
        known = ", ".join(d.value for d in Disposition)
        raise DispositionError(f"unknown disposition {text!r} (one of: {known})") from None


def lead_change(facts: AttemptFacts, request: DispositionRequest, now: datetime) -> LeadChange:
    """The lead's next state, or `DispositionError` naming why the request is refused."""
    _check_attempt(facts)
    if request.code is Disposition.CALLBACK:
        return LeadChange(LeadStatus.PENDING, _callback_time(request, now), add_dnc=False)
    if request.callback_at is not None:
        raise DispositionError(f"--callback-at goes with 'callback' only, not {request.code}")
    return LeadChange(_FINAL_STATUS[request.code], None, add_dnc=request.code is Disposition.DNC)


def _check_attempt(facts: AttemptFacts) -> None:
    call = f"call {facts.call_uuid}"
    if facts.outcome is None:
        raise DispositionError(f"{call} is still in progress (no outcome recorded yet)")
    if facts.disposition is not None:
        raise DispositionError(f"{call} already has the disposition {facts.disposition!r}")
    if facts.latest_call_uuid != facts.call_uuid:
        raise DispositionError(
            f"{call} is not its lead's latest attempt (that is {facts.latest_call_uuid})"
        )
    if facts.lead_status is LeadStatus.DIALING:
        raise DispositionError(f"{call}: its lead is being dialled again now")
    if facts.lead_status is LeadStatus.DNC:
        raise DispositionError(f"{call}: its lead is on the do-not-call list")


def _callback_time(request: DispositionRequest, now: datetime) -> datetime:
    at = request.callback_at
    if at is None:
        raise DispositionError("'callback' needs --callback-at (an ISO date-time)")
    if at.tzinfo is None:
        raise DispositionError(f"callback time {at.isoformat()} has no time zone offset")
    if at <= now:
        raise DispositionError(
            f"callback time {at.isoformat()} is not in the future (now {now.isoformat()})"
        )
    return at.astimezone(UTC)
