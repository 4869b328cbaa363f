"""What becomes of a lead once its attempt has ended: `campaigns.rules.next_step` applied.

Pure. Invariant: an attempt the node refused to dial (``CallEnd.outcome is None``) does not
count as an attempt; every other outcome counts exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaigns.models import LeadStatus
from campaigns.rules import Final, Outcome, RetryPolicy, next_step
from dialer.calls.machine import CallEnd

REFUSED_RETRY_DELAY_S = 5


@dataclass(frozen=True, slots=True)
class LeadUpdate:
    """The lead's new ``status``, ``attempts``, ``next_attempt_at`` and ``last_outcome``."""

    lead_id: int
    status: LeadStatus
    attempts: int
    next_attempt_at: datetime
    last_outcome: str | None
    reason: str


def lead_update(
    end: CallEnd,
    lead_id: int,
    attempts_before: int,
    policy: RetryPolicy,
    max_attempts: int,
    now: datetime,
) -> LeadUpdate:
    """``attempts_before``: the lead's count before this attempt; ``now`` aware."""
    now = now.astimezone(UTC)
    if end.outcome is None:
        return LeadUpdate(
            lead_id,
            LeadStatus.PENDING,
            attempts_before,
            now + timedelta(seconds=REFUSED_RETRY_DELAY_S),
            None,
            end.disposition,
        )
    attempts = attempts_before + 1
    step = next_step(policy, end.outcome, attempts, max_attempts, now)
    if isinstance(step, Final):
        status = LeadStatus.DONE if end.outcome is Outcome.CONNECTED else LeadStatus.FAILED
        return LeadUpdate(lead_id, status, attempts, now, end.outcome.value, step.reason)
    return LeadUpdate(
        lead_id,
        LeadStatus.PENDING,
        attempts,
        step.at,
        end.outcome.value,
        f"retry after {end.outcome.value}",
    )
