"""Claiming the next due leads of a campaign, so that two processes never get the same lead.

A lead is due when it is ``pending``, its ``next_attempt_at`` has passed and its calling window
is open.  Claimed leads turn ``dialing`` in the same statement's transaction.  On PostgreSQL
the candidates are locked ``FOR UPDATE SKIP LOCKED``; SQLite serializes writers, so there an
``UPDATE ... WHERE status = 'pending'`` that re-checks the status is the equivalent.

Leads of an archived lead list (`campaigns.lead_lists`) are never chosen.
The same statement checks each chosen lead against the active DNC entries: a listed lead
turns ``dnc`` instead of ``dialing`` and is not returned, so no number on the list reaches an
originate whenever its entry was added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnExpressionArgument,
    Exists,
    String,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from campaigns.domain import ClaimedLead, LeadStatus, RetryOrder, claim_order_key
from campaigns.lead_lists import in_live_list
from campaigns.models import DncEntry, Lead
from campaigns.rules import CallingWindow

# E.164: '+' and at most 15 digits; a DNC prefix is '+' and at least one digit.
_E164_MAX_CHARS = 16
_PREFIX_MIN_CHARS = 2


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


def dnc_listed(
    phone_e164: ColumnExpressionArgument[str], campaign_id: int, now: datetime
) -> Exists:
    """Whether an active DNC entry (global or of ``campaign_id``) covers ``phone_e164``: an
    exact entry equal to it, or a prefix entry equal to one of its leading parts.

    Each leading part is looked up by equality, so the check is 15 probes of
    ``ix_dnc_entries_number_is_prefix`` per lead, however long the list.
    """
    heads = [func.substr(phone_e164, 1, n) for n in range(_PREFIX_MIN_CHARS, _E164_MAX_CHARS)]
    return (
        select(DncEntry.id)
        .where(
            DncEntry.number.in_([*heads, phone_e164]),
            or_(DncEntry.is_prefix.is_(True), DncEntry.number == phone_e164),
            or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == campaign_id),
            or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > now),
        )
        .exists()
    )


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
    fresh leads first, then longest due); the chosen leads an active DNC entry covers turn
    ``dnc`` and are left out, so fewer than ``limit`` may come back while more are due.

    ``open_zones`` (from :func:`open_zone_sets`) restricts the claim to leads whose calling
    window is open; None means no window applies.  Runs in the caller's transaction: the
    claim holds once it commits.
    """
    if limit <= 0 or open_zones == []:
        return []
    due = (
        select(Lead.id, dnc_listed(Lead.phone_e164, campaign_id, now).label("listed"))
        .where(
            Lead.campaign_id == campaign_id,
            Lead.status == LeadStatus.PENDING,
            Lead.next_attempt_at <= now,
            in_live_list(),
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
    listed = chosen.c.listed
    claimed = session.execute(
        update(Lead)
        .where(Lead.id == chosen.c.id, Lead.status == LeadStatus.PENDING)
        .values(
            status=case((listed, LeadStatus.DNC.value), else_=LeadStatus.DIALING.value),
            claimed_at=case((listed, null()), else_=literal(now, Lead.claimed_at.type)),
            claimed_by=case((listed, null()), else_=literal(claimer or None, String)),
        )
        .returning(
            Lead.id,
            Lead.phone_e164,
            Lead.attempts,
            Lead.priority,
            Lead.next_attempt_at,
            Lead.time_zones,
            Lead.region,
            Lead.custom_fields,
            Lead.status,
        )
        .execution_options(synchronize_session=False)
    )
    rows = [ClaimedLead(*row[:-1]) for row in claimed if row[-1] is LeadStatus.DIALING]
    rows.sort(key=lambda x: claim_order_key(order, x.priority, x.attempts, x.next_attempt_at, x.id))
    return rows
