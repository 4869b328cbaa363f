"""Values of the campaigns context shared by its tables, the claim and the dialling core.

Pure: no I/O, no ORM. The tables in `campaigns.models` store these enums by value (the
strings below are what the database holds), so a member's value never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "NOT_DIALLED",
    "UNSETTLED",
    "AttemptOutcome",
    "CampaignStatus",
    "ClaimedLead",
    "DialMode",
    "DncRule",
    "LeadStatus",
    "RetryOrder",
    "claim_order_key",
]


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


class DialMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class LeadStatus(StrEnum):
    """``pending`` leads are due once ``next_attempt_at`` has passed; ``dialing`` are claimed."""

    PENDING = "pending"
    DIALING = "dialing"
    DONE = "done"
    FAILED = "failed"
    DNC = "dnc"


class RetryOrder(StrEnum):
    """Where a campaign's due retries (leads with an attempt counted, ``attempts > 0``) stand
    among its fresh leads of the same priority when leads are claimed."""

    RETRIES_FIRST = "retries_first"
    FRESH_FIRST = "fresh_first"
    DUE_ORDER = "due_order"  # longest due first, retry or not


class AttemptOutcome(StrEnum):
    """How a dialled attempt ended, as far as retries care (``CallAttempt.outcome``)."""

    CONNECTED = "connected"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    ABANDONED = "abandoned"
    ANSWERING_MACHINE = "answering_machine"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"


# CallAttempt.outcome of an attempt whose originate never left or that the node refused: no
# callee was reached, so it is not an `AttemptOutcome` and counts as no attempt.
NOT_DIALLED = "not_dialled"

# CallAttempt.outcome (and Lead.last_outcome) of an attempt that no event, no channel list of
# its switch and no CDR settled in time: the customer may have talked to an agent, so its
# lead is held (``failed``) until a CDR settles it or a manager releases it.
UNSETTLED = "unknown"


@dataclass(frozen=True, slots=True)
class ClaimedLead:
    """A lead turned ``dialing`` by a claim: what dialling it needs (``next_attempt_at``
    aware UTC; ``time_zones`` comma-joined IANA zones; ``attempts`` before this one)."""

    id: int
    phone_e164: str
    attempts: int
    priority: int
    next_attempt_at: datetime
    time_zones: str
    region: str
    custom_fields: dict[str, object]


def claim_order_key(
    order: RetryOrder, priority: int, attempts: int, next_attempt_at: datetime, lead_id: int
) -> tuple[int, int, datetime, int]:
    """The sort key of a due lead in a claim: highest ``priority`` first, then retries or
    fresh leads first as ``order`` says, then longest due, then lowest id."""
    retry = attempts > 0
    if order is RetryOrder.RETRIES_FIRST:
        rank = 0 if retry else 1
    elif order is RetryOrder.FRESH_FIRST:
        rank = 1 if retry else 0
    else:
        rank = 0
    return -priority, rank, next_attempt_at, lead_id


@dataclass(frozen=True, slots=True)
class DncRule:
    """A do-not-call entry: an E.164 ``number``, or with ``is_prefix`` every number starting
    with it; ``campaign_id`` None: every campaign; ``expires_at`` (aware) None: forever."""

    number: str
    is_prefix: bool = False
    campaign_id: int | None = None
    expires_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    def forbids(self, phone_e164: str, campaign_id: int, now: datetime) -> bool:
        """True when this entry, active at ``now``, covers ``phone_e164`` in the campaign."""
        if self.campaign_id is not None and self.campaign_id != campaign_id:
            return False
        if not self.is_active(now):
            return False
        if self.is_prefix:
            return phone_e164.startswith(self.number)
        return phone_e164 == self.number
