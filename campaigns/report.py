"""A campaign's figures from its rows: lead statuses, call outcomes and the abandon rate.

The abandon rate is abandoned / answered by a person (answering machines are not people), the
same ratio the pacer's abandon budget spends, counted over attempts originated since a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.domain import AttemptOutcome
from campaigns.models import CallAttempt
from campaigns.service import lead_counts

IN_FLIGHT = "in flight"


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """``attempts_by_outcome`` names attempts without an outcome yet ``in flight``;
    ``talk_s`` sums connected calls from connection to hangup."""

    leads_by_status: dict[str, int]
    attempts_by_outcome: dict[str, int]
    answered: int
    abandoned: int
    connected: int
    talk_s: float

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


def campaign_report(
    session: Session, campaign_id: int, since: datetime | None = None
) -> CampaignReport:
    """The campaign's leads now, and its attempts originated at or after ``since`` (all when
    None)."""
    scope = [CallAttempt.campaign_id == campaign_id]
    if since is not None:
        scope.append(CallAttempt.originated_at >= since)
    outcomes = {
        str(outcome or IN_FLIGHT): int(n)
        for outcome, n in session.execute(
            select(CallAttempt.outcome, func.count()).where(*scope).group_by(CallAttempt.outcome)
        ).tuples()
    }
    answered = session.scalar(
        select(func.count()).where(
            *scope,
            CallAttempt.answered_at.is_not(None),
            CallAttempt.outcome.is_distinct_from(AttemptOutcome.ANSWERING_MACHINE.value),
        )
    )
    abandoned = session.scalar(select(func.count()).where(*scope, CallAttempt.abandoned))
    talks = session.execute(
        select(CallAttempt.connected_at, CallAttempt.ended_at).where(
            *scope, CallAttempt.connected_at.is_not(None), CallAttempt.ended_at.is_not(None)
        )
    ).tuples()
    talk_s = 0.0
    for start, end in talks:
        if start is not None and end is not None:
            talk_s += max(0.0, (end - start).total_seconds())
    return CampaignReport(
        leads_by_status={k: v for k, v in lead_counts(session, campaign_id).by_status.items() if v},
        attempts_by_outcome=outcomes,
        answered=int(answered or 0),
        abandoned=int(abandoned or 0),
        connected=outcomes.get(AttemptOutcome.CONNECTED.value, 0),
        talk_s=talk_s,
    )
