"""A campaign's figures from its rows: lead statuses, call outcomes and the abandon rate.

The abandon rate is abandoned / answered by a person (answering machines are not people), the
same ratio the pacer's abandon budget spends, counted over attempts originated since a time.

A report is one SELECT, so every figure in it comes from the same snapshot of the database
(each statement sees one snapshot on PostgreSQL and on SQLite): a lead that changes while the
report is made is counted once, before or after, in all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Campaign, Lead
from dialer.db.base import UtcDateTime

IN_FLIGHT = "in flight"

# Row kinds of the report's one statement.
_LEADS, _CALLS, _TALK = "leads", "calls", "talk"


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """``leads_by_status`` holds the statuses that have leads; ``attempts_by_outcome``
    names attempts without an outcome yet ``in flight``; ``talk_s`` sums connected calls
    from connection to hangup."""

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
    None), read in one statement."""
    leads_by_status: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    answered = abandoned = 0
    talk_s = 0.0
    for kind, key, n, people, abandons, start, end in session.execute(
        _report_query(campaign_id, since)
    ).tuples():
        if kind == _LEADS:
            leads_by_status[str(key)] = int(n)
        elif kind == _CALLS:
            outcomes[str(key or IN_FLIGHT)] = int(n)
            answered += int(people or 0)
            abandoned += int(abandons or 0)
        elif start is not None and end is not None:
            talk_s += max(0.0, (end - start).total_seconds())
    return CampaignReport(
        leads_by_status=leads_by_status,
        attempts_by_outcome=outcomes,
        answered=answered,
        abandoned=abandoned,
        connected=outcomes.get(AttemptOutcome.CONNECTED.value, 0),
        talk_s=talk_s,
    )


@dataclass(frozen=True, slots=True)
class LiveReport:
    """A campaign's live figures as ``dialer campaigns show`` prints them: its leads now (every
    status, 0 included) and its calls originated at or after ``since``, the start of its
    abandon window (``window_days`` before the report)."""

    since: datetime
    window_days: int
    report: CampaignReport

    @property
    def leads(self) -> dict[str, int]:
        return {s.value: self.report.leads_by_status.get(s.value, 0) for s in LeadStatus}


def live_report(session: Session, campaign: Campaign, now: datetime) -> LiveReport:
    """The live figures of ``campaign`` at aware ``now``."""
    since = now - timedelta(days=campaign.abandon_window_days)
    report = campaign_report(session, campaign.id, since)
    return LiveReport(since, campaign.abandon_window_days, report)


def _report_query(campaign_id: int, since: datetime | None) -> Any:
    """Rows (kind, key, count, answered by a person, abandoned, connected at, ended at):
    one per lead status, one per call outcome, one per connected call that ended."""
    scope = [CallAttempt.campaign_id == campaign_id]
    if since is not None:
        scope.append(CallAttempt.originated_at >= since)
    person = (CallAttempt.answered_at.is_not(None)) & CallAttempt.outcome.is_distinct_from(
        AttemptOutcome.ANSWERING_MACHINE.value
    )
    no_time = cast(null(), UtcDateTime())
    leads = (
        select(
            literal(_LEADS, String).label("kind"),
            cast(Lead.status, String).label("key"),
            func.count().label("n"),
            cast(literal(0), Integer).label("people"),
            cast(literal(0), Integer).label("abandons"),
            no_time.label("start"),
            no_time.label("end"),
        )
        .where(Lead.campaign_id == campaign_id)
        .group_by(Lead.status)
    )
    calls = (
        select(
            literal(_CALLS, String),
            CallAttempt.outcome,
            func.count(),
            func.sum(case((person, 1), else_=0)),
            func.sum(case((CallAttempt.abandoned, 1), else_=0)),
            no_time,
            no_time,
        )
        .where(*scope)
        .group_by(CallAttempt.outcome)
    )
    talks = select(
        literal(_TALK, String),
        cast(null(), String),
        cast(literal(1), Integer),
        cast(literal(0), Integer),
        cast(literal(0), Integer),
        CallAttempt.connected_at,
        CallAttempt.ended_at,
    ).where(*scope, CallAttempt.connected_at.is_not(None), CallAttempt.ended_at.is_not(None))
    return union_all(leads, calls, talks)
