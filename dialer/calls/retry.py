"""What becomes of a lead once its attempt has ended: `campaigns.rules.next_step` applied.

Pure. Invariants: an attempt the node refused to dial (``CallEnd.outcome is None``) does not
count as an attempt; nor do the first `CARRIER_FAILURES_FREE` carrier failures in a row of a
lead (`dialer.calls.trunk.carrier_failed`: the trunk, not the callee, failed), which send it
back to pending after `REFUSED_RETRY_DELAY_S` so that its next try fails over to a trunk
whose health is better; every other outcome counts exactly once. So a lead whose every
trunk fails still runs out of attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.rules import Final, RetryPolicy, next_step
from dialer.calls.machine import CallEnd
from dialer.calls.trunk import carrier_failed

REFUSED_RETRY_DELAY_S = 5
CARRIER_FAILURES_FREE = 3


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
    carrier_failures_before: int = 0,
) -> LeadUpdate:
    """``attempts_before``: the lead's count before this attempt; ``now`` aware;
    ``carrier_failures_before``: the lead's carrier failures in a row just before this
    attempt (its node refusals skipped)."""
    now = now.astimezone(UTC)
    soon = now + timedelta(seconds=REFUSED_RETRY_DELAY_S)
    if end.outcome is None:
        return LeadUpdate(lead_id, LeadStatus.PENDING, attempts_before, soon, None, end.disposition)
    if carrier_failures_before < CARRIER_FAILURES_FREE and carrier_failed(
        end.outcome, end.hangup_cause
    ):
        reason = f"trunk failure ({end.disposition}), not counted"
        return LeadUpdate(
            lead_id, LeadStatus.PENDING, attempts_before, soon, end.outcome.value, reason
        )
    attempts = attempts_before + 1
    step = next_step(policy, end.outcome, attempts, max_attempts, now)
    if isinstance(step, Final):
        status = LeadStatus.DONE if end.outcome is AttemptOutcome.CONNECTED else LeadStatus.FAILED
        return LeadUpdate(lead_id, status, attempts, now, end.outcome.value, step.reason)
    return LeadUpdate(
        lead_id,
        LeadStatus.PENDING,
        attempts,
        step.at,
        end.outcome.value,
        f"retry after {end.outcome.value}",
    )
