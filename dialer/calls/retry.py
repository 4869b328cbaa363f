"""What becomes of a lead once its attempt has ended: `campaigns.rules.next_step` applied.

Pure. Invariants: a switch or trunk failure never uses up an attempt. An attempt the node
refused to dial (``CallEnd.outcome is None``: its session limits, transcripts l and l2) goes
back to pending after `REFUSED_RETRY_DELAY_S`; a carrier failure
(`dialer.calls.trunk.carrier_failed`: gateway down or unreachable, a 503 from the carrier, a
trunk that ignored the INVITE; transcripts d, d2, d3, p) too, after a delay that doubles with
each carrier failure in a row of the lead (`carrier_retry_delay_s`, at most
`CARRIER_RETRY_MAX_S`), so its next try can fail over to a healthier trunk and a lead that
no trunk carries costs one try an hour. Every other outcome counts exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.rules import Final, RetryPolicy, next_step
from dialer.calls.machine import CallEnd
from dialer.calls.trunk import carrier_failed

REFUSED_RETRY_DELAY_S = 5
CARRIER_RETRY_MAX_S = 3600
# carrier failures in a row past which the delay no longer grows (5 s * 2**10 > 1 h)
CARRIER_STREAK_LOOKBACK = 10


def carrier_retry_delay_s(carrier_failures_before: int) -> int:
    """Seconds until a lead whose attempt failed for its trunk is tried again, after
    ``carrier_failures_before`` such failures in a row: 5, 10, 20... up to an hour."""
    streak = min(max(carrier_failures_before, 0), CARRIER_STREAK_LOOKBACK)
    return min(REFUSED_RETRY_DELAY_S << streak, CARRIER_RETRY_MAX_S)


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
    if carrier_failed(end.outcome, end.hangup_cause):
        reason = f"trunk failure ({end.disposition}), not counted"
        later = now + timedelta(seconds=carrier_retry_delay_s(carrier_failures_before))
        return LeadUpdate(
            lead_id, LeadStatus.PENDING, attempts_before, later, end.outcome.value, reason
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
