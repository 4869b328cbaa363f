"""Lead lists after their import: what each holds, deleting one none of whose leads was
dialled, archiving one that was (its leads are then never claimed; it stays for the records).

A lead counts as dialled once a call attempt exists for it or it is being dialled
(``dialing``): deleting it would delete its call records, so a list with one is only archived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Campaign, Lead, LeadList

ARCHIVED = "archived"


class LeadListError(Exception):
    """The list named cannot be found or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class LeadListRow:
    """One lead list as ``dialer leads lists`` shows it; ``dialled``: its leads dialled."""

    lead_list_id: int
    file_name: str
    campaign: str
    imported_at: datetime
    rows: int
    accepted: int
    duplicate: int
    dnc: int
    invalid: int
    dialled: int
    status: str
    finished_at: datetime | None = None
    sha256: str = ""


def _dialled(list_ids: Select[tuple[int]] | list[int]) -> Select[tuple[int | None, int]]:
    """Leads dialled per list, for the lists ``list_ids``."""
    attempted = select(CallAttempt.lead_id).where(CallAttempt.lead_id == Lead.id).exists()
    return (
        select(Lead.lead_list_id, func.count())
        .where(
            Lead.lead_list_id.in_(list_ids),
            or_(Lead.status == LeadStatus.DIALING, attempted),
        )
        .group_by(Lead.lead_list_id)
    )


def list_lead_lists(session: Session, campaign: str | None = None) -> list[LeadListRow]:
    """Every lead list (of ``campaign`` when given), oldest first."""
    query = (
        select(LeadList, Campaign.name)
        .join(Campaign, Campaign.id == LeadList.campaign_id)
        .order_by(LeadList.id)
    )
    if campaign is not None:
        query = query.where(Campaign.name == campaign)
    found = session.execute(query).all()
    dialled = dict(session.execute(_dialled([lst.id for lst, _ in found])).tuples().all())
    return [_row(lst, name, dialled.get(lst.id, 0)) for lst, name in found]


def _row(lst: LeadList, campaign: str, dialled: int) -> LeadListRow:
    rows = lst.accepted + lst.duplicate + lst.dnc + lst.invalid
    return LeadListRow(
        lst.id, lst.name, campaign, lst.created_at, rows, lst.accepted, lst.duplicate,
        lst.dnc, lst.invalid, dialled, lst.status, lst.finished_at, lst.file_sha256,
    )  # fmt: skip


def lead_list_row(session: Session, lead_list: LeadList) -> LeadListRow:
    """``lead_list`` as ``dialer leads lists`` shows it, read now."""
    campaign = session.get(Campaign, lead_list.campaign_id)
    assert campaign is not None  # the list's foreign key
    dialled = dict(session.execute(_dialled([lead_list.id])).tuples().all())
    return _row(lead_list, campaign.name, dialled.get(lead_list.id, 0))


def find_list(session: Session, ref: str, campaign: str | None = None) -> LeadList:
    """The list ``ref`` names: its id, or its file name (one list only, in ``campaign``)."""
    query = select(LeadList).join(Campaign, Campaign.id == LeadList.campaign_id)
    if campaign is not None:
        query = query.where(Campaign.name == campaign)
    if ref.isdigit():
        found = session.scalars(query.where(LeadList.id == int(ref))).all()
    else:
        found = session.scalars(query.where(LeadList.name == ref)).all()
    if not found:
        raise LeadListError(f"no lead list {ref!r}; `dialer leads lists` shows them")
    if len(found) > 1:
        ids = ", ".join(str(lst.id) for lst in found)
        raise LeadListError(f"{len(found)} lead lists are named {ref!r} (ids {ids}): give the id")
    return found[0]


def delete_list(session: Session, lead_list: LeadList) -> int:
    """Delete ``lead_list`` and its leads; the number of leads deleted. Refused when one of
    its leads was dialled (see the module); the caller's transaction holds the check."""
    dialled = session.execute(_dialled([lead_list.id])).tuples().all()
    if dialled:
        count = dialled[0][1]
        raise LeadListError(
            f"lead list #{lead_list.id} ({lead_list.name}) has {count:,} leads dialled: their "
            "call records stay; archive it instead (--archive): its leads are never claimed "
            "again and it stays for the records"
        )
    # Re-checked row by row as it deletes: a lead claimed meanwhile is left, and refuses below.
    attempted = select(CallAttempt.lead_id).where(CallAttempt.lead_id == Lead.id).exists()
    removed = session.scalar(
        select(func.count()).where(
            Lead.lead_list_id == lead_list.id, Lead.status != LeadStatus.DIALING, ~attempted
        )
    )
    session.execute(
        delete(Lead).where(
            Lead.lead_list_id == lead_list.id, Lead.status != LeadStatus.DIALING, ~attempted
        )
    )
    left = session.scalar(select(func.count()).where(Lead.lead_list_id == lead_list.id))
    if left:
        raise LeadListError(
            f"lead list #{lead_list.id} ({lead_list.name}): {left:,} of its leads were claimed "
            "for dialling meanwhile; archive it instead (--archive)"
        )
    session.delete(lead_list)
    return int(removed or 0)


def archive_list(session: Session, lead_list: LeadList) -> None:
    """From now on no lead of ``lead_list`` is claimed (calls in progress end as they will)."""
    session.execute(update(LeadList).where(LeadList.id == lead_list.id).values(status=ARCHIVED))


def in_live_list() -> ColumnElement[bool]:
    """Whether a lead is of no list or of one not archived: the claim and the count of due
    leads leave the others out."""
    archived = select(LeadList.id).where(LeadList.status == ARCHIVED)
    return or_(Lead.lead_list_id.is_(None), Lead.lead_list_id.not_in(archived))
