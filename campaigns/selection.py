"""Claiming the next due leads of a campaign, so that two processes never get the same lead.

A lead is due when it is ``pending``, its ``next_attempt_at`` has passed and its calling window
is open.  Claimed leads turn ``dialing`` in the same statement's transaction.  On PostgreSQL
the candidates are locked ``FOR UPDATE SKIP LOCKED``; SQLite serializes writers, so there an
``UPDATE ... WHERE status = 'pending'`` that re-checks the status is the equivalent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnExpressionArgument, literal_column, select, update
from sqlalchemy.orm import Session

from campaigns.domain import ClaimedLead, LeadStatus, RetryOrder, claim_order_key
from campaigns.models import Lead
from campaigns.rules import CallingWindow


def open_zone_sets(
    session: Session, campaign_id: int, window: CallingWindow, now: datetime
) -> list[str]:
    """The campaign's distinct ``time_zones`` values whose calling window is open at ``now``."""
    zone_sets = session.scalars(
        select(Lead.time_zones)
        .where(Lead.campaign_id == campaign_id, Lead.status == LeadStatus.PENDING)
        .distinct()
    )
    return [z for z in zone_sets if window.is_open(z, now)]


def claim_order(order: RetryOrder) -> list[ColumnExpressionArgument[Any]]:
    """The ORDER BY of a claim, as `campaigns.domain.claim_order_key` sorts; each order has
    its index (``ix_leads_due``, ``ix_leads_due_retries_first``, ``ix_leads_due_fresh_first``),
    whose expressions these repeat literally so that the planner recognizes them."""
    keys: list[ColumnExpressionArgument[Any]] = [Lead.priority.desc()]
    if order is RetryOrder.RETRIES_FIRST:
        keys.append(Lead.attempts == literal_column("0"))
    elif order is RetryOrder.FRESH_FIRST:
        keys.append(Lead.attempts > literal_column("0"))
    return [*keys, Lead.next_attempt_at, Lead.id]


def claim_due_leads(
    session: Session,
    campaign_id: int,
    limit: int,
    now: datetime,
    open_zones: list[str] | None = None,
    claimer: str = "",
    order: RetryOrder = RetryOrder.RETRIES_FIRST,
) -> list[ClaimedLead]:
    """Claim up to ``limit`` due leads in ``order`` (highest priority first, then retries or
    fresh leads first, then longest due).

    ``open_zones`` (from :func:`open_zone_sets`) restricts the claim to leads whose calling
    window is open; None means no window applies.  Runs in the caller's transaction: the
    claim holds once it commits.
    """
    if limit <= 0 or open_zones == []:
        return []
    due = (
        select(Lead.id)
        .where(
            Lead.campaign_id == campaign_id,
            Lead.status == LeadStatus.PENDING,
            Lead.next_attempt_at <= now,
        )
        .order_by(*claim_order(order))
        .limit(limit)
    )
    if open_zones is not None:
        due = due.where(Lead.time_zones.in_(open_zones))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement: on SQLite it holds the write lock from choosing to marking.  The chosen
    # ids are materialized first: as an IN subquery PostgreSQL could re-run the locking
    # SELECT while updating and claim more than ``limit`` rows.
    chosen = due.cte("due").prefix_with("MATERIALIZED")
    claimed = session.execute(
        update(Lead)
        .where(Lead.id == chosen.c.id, Lead.status == LeadStatus.PENDING)
        .values(status=LeadStatus.DIALING, claimed_at=now, claimed_by=claimer or None)
        .returning(
            Lead.id,
            Lead.phone_e164,
            Lead.attempts,
            Lead.priority,
            Lead.next_attempt_at,
            Lead.time_zones,
            Lead.region,
            Lead.custom_fields,
        )
        .execution_options(synchronize_session=False)
    )
    rows = [ClaimedLead(*row) for row in claimed]
    rows.sort(key=lambda x: claim_order_key(order, x.priority, x.attempts, x.next_attempt_at, x.id))
    return rows
