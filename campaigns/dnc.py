"""Do-not-call entries: exact numbers and number prefixes, global or per campaign.

An entry is checked three times: at import (a listed row is not inserted), when it is added
(the pending leads it covers turn ``dnc`` at once) and at every claim (`campaigns.selection`:
a listed lead turns ``dnc`` instead of being dialled), so whenever a number was listed, no
claim made after its entry committed dials it. A lead turned ``dnc`` stays so after its
entry lapses, as a row rejected at import stays rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from campaigns.domain import LeadStatus
from campaigns.models import DncEntry, Lead
from campaigns.numbers import Invalid, normalize

_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")


class DncError(Exception):
    """A DNC value that is neither a valid number nor an E.164 prefix, or that lapsed;
    ``field`` names what was wrong (``number`` or ``expires_at``)."""

    def __init__(self, message: str, field: str = "number") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class DncAdded:
    """The stored entry and how many pending leads it turned ``dnc``."""

    entry: DncEntry
    leads_marked: int


def add_entry(
    session: Session,
    value: str,
    *,
    region: str,
    now: datetime,
    is_prefix: bool = False,
    campaign_id: int | None = None,
    source: str = "manual",
    reason: str = "",
    expires_at: datetime | None = None,
) -> DncAdded:
    """Store ``value``: a number (normalized to E.164) or, with ``is_prefix``, a ``+``-prefix;
    the pending leads it covers (of every campaign, or of ``campaign_id``) turn ``dnc`` in
    the same transaction. ``expires_at`` must be after ``now`` (both aware)."""
    if is_prefix:
        number = value.strip().replace(" ", "")
        if not _PREFIX.fullmatch(number):
            raise DncError(f"DNC prefix {value!r} must be '+' and 1-15 digits, e.g. +86138")
    else:
        result = normalize(value, region)
        if isinstance(result, Invalid):
            raise DncError(f"DNC number {value!r}: {result.reason}")
        number = result.e164
    if expires_at is not None and expires_at <= now:
        raise DncError(
            f"DNC {number}: expiry {expires_at.isoformat()} is not in the future "
            f"(now {now.isoformat()})",
            "expires_at",
        )
    entry = DncEntry(
        number=number,
        is_prefix=is_prefix,
        campaign_id=campaign_id,
        source=source,
        reason=reason,
        expires_at=expires_at,
    )
    session.add(entry)
    session.flush()
    return DncAdded(entry, _mark_pending(session, entry))


def _mark_pending(session: Session, entry: DncEntry) -> int:
    """Turn the pending leads ``entry`` covers ``dnc``; how many."""
    covered = [Lead.status == LeadStatus.PENDING]
    if entry.campaign_id is not None:
        covered.append(Lead.campaign_id == entry.campaign_id)
    if entry.is_prefix:
        # The range lets ix_leads_phone_e164 find the prefix's numbers ('+' and digits sort
        # digit by digit in the C, glibc and ICU collations); the substring test decides,
        # and every claim checks the lead again.
        covered.append(Lead.phone_e164 >= entry.number)
        upper = _after_prefix(entry.number)
        if upper is not None:
            covered.append(Lead.phone_e164 < upper)
        covered.append(func.substr(Lead.phone_e164, 1, len(entry.number)) == entry.number)
    else:
        covered.append(Lead.phone_e164 == entry.number)
    result = session.execute(
        update(Lead)
        .where(*covered)
        .values(status=LeadStatus.DNC)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _after_prefix(prefix: str) -> str | None:
    """The least '+digits' string above every number starting with ``prefix`` (None when
    the prefix is all nines: no bound needed)."""
    digits = prefix[1:].rstrip("9")
    if not digits:
        return None
    return "+" + digits[:-1] + str(int(digits[-1]) + 1)


@dataclass(frozen=True, slots=True)
class DncPage:
    """``entries`` (newest first) from ``offset``, of ``total`` entries in the scope asked."""

    entries: list[DncEntry]
    total: int


def list_entries(
    session: Session, *, campaign_id: int | None = None, limit: int = 100, offset: int = 0
) -> DncPage:
    """The entries, newest first: of every scope, or the campaign's own when ``campaign_id``
    is given; lapsed entries included (their ``expires_at`` says so)."""
    scope = [] if campaign_id is None else [DncEntry.campaign_id == campaign_id]
    total = session.scalar(select(func.count()).select_from(DncEntry).where(*scope)) or 0
    entries = session.scalars(
        select(DncEntry).where(*scope).order_by(DncEntry.id.desc()).limit(limit).offset(offset)
    )
    return DncPage(list(entries), int(total))


def remove_entry(session: Session, entry_id: int) -> bool:
    """Remove entry ``entry_id``; False when there is none. Leads it turned ``dnc`` stay so
    (see the module)."""
    result = session.execute(delete(DncEntry).where(DncEntry.id == entry_id))
    return bool(getattr(result, "rowcount", 0))


def _global_in_force(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        DncEntry.campaign_id.is_(None),
        (DncEntry.expires_at.is_(None)) | (DncEntry.expires_at > now),
    )


def global_entries(session: Session, now: datetime) -> tuple[list[str], list[str]]:
    """The global (every campaign) entries in force at ``now``: (numbers, prefixes), sorted.
    What the switch's own guard lists (`fs_conf.dnc`)."""
    rows = session.execute(
        select(DncEntry.number, DncEntry.is_prefix).where(*_global_in_force(now))
    )
    numbers: set[str] = set()
    prefixes: set[str] = set()
    for number, is_prefix in rows:
        (prefixes if is_prefix else numbers).add(number)
    return sorted(numbers), sorted(prefixes)


def global_prefixes(session: Session, now: datetime) -> list[str]:
    """The global prefixes in force at ``now``, sorted (`global_entries` without the
    numbers, which may be many)."""
    rows = session.scalars(
        select(DncEntry.number).where(DncEntry.is_prefix, *_global_in_force(now))
    )
    return sorted(set(rows))
