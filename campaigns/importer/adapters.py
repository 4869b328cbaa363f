"""`SqlLeadStore`: the lead import's `LeadStore` on the database (SQLite, PostgreSQL).

Each batch commits its leads together with the list's counters and ``rows_done``, so a
killed import resumes at the first uncommitted row and ends as one clean run would. On
PostgreSQL a batch's leads go in by COPY, and look-ups send their numbers as one array.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, any_, bindparam, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from campaigns.importer.classify import LeadCandidate, Reject, RowOutcome, duplicate
from campaigns.importer.ports import ImportTarget, LeadBatch, LeadListProgress
from campaigns.models import Campaign, DncEntry, Lead, LeadList, utcnow

_LOOKUP_CHUNK = 5000


class SqlLeadStore:
    """`LeadStore` over ``sessions``: every method is one transaction, a batch is one."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def find_campaign(self, name: str) -> ImportTarget | None:
        with self._sessions() as session:
            campaign = session.scalars(select(Campaign).where(Campaign.name == name)).one_or_none()
            if campaign is None:
                return None
            return ImportTarget(campaign.id, campaign.default_region)

    def open_list(
        self, campaign_id: int, file_name: str, sha256: str, again: bool = False
    ) -> LeadListProgress:
        with self._sessions.begin() as session:
            return _progress(_lead_list_for(session, campaign_id, file_name, sha256, again))

    def dnc_prefixes(self, campaign_id: int, now: datetime) -> list[str]:
        with self._sessions() as session:
            return _dnc_prefixes(session, campaign_id, now)

    @contextmanager
    def batch(self) -> Iterator[LeadBatch]:
        with self._sessions.begin() as session:
            yield _SqlBatch(session)

    def finish(self, lead_list_id: int, at: datetime) -> LeadListProgress:
        with self._sessions.begin() as session:
            session.execute(
                update(LeadList)
                .where(LeadList.id == lead_list_id)
                .values(status="complete", finished_at=at)
            )
            final = session.get(LeadList, lead_list_id)
            assert final is not None
            return _progress(final)


class _SqlBatch:
    """`LeadBatch` inside one open transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def dnc_exact(self, campaign_id: int, numbers: list[str], now: datetime) -> frozenset[str]:
        return _dnc_exact(self._session, campaign_id, numbers, now)

    def in_other_campaigns(self, campaign_id: int, numbers: list[str]) -> dict[str, int]:
        return _in_other_campaigns(self._session, campaign_id, numbers)

    def insert_new(
        self, campaign_id: int, lead_list_id: int, candidates: list[LeadCandidate]
    ) -> list[Reject]:
        return _insert_new(self._session, campaign_id, lead_list_id, candidates)

    def checkpoint(
        self, lead_list_id: int, rows_done: int, counts: Mapping[RowOutcome, int]
    ) -> None:
        _checkpoint(self._session, lead_list_id, rows_done, counts)


def _progress(lead_list: LeadList) -> LeadListProgress:
    counts = {
        RowOutcome.ACCEPTED: lead_list.accepted,
        RowOutcome.DUPLICATE: lead_list.duplicate,
        RowOutcome.DNC: lead_list.dnc,
        RowOutcome.INVALID: lead_list.invalid,
    }
    return LeadListProgress(
        lead_list.id,
        lead_list.rows_done,
        counts,
        lead_list.status != "importing",
        lead_list.name,
    )


def _lead_list_for(
    session: Session, campaign_id: int, file_name: str, sha256: str, again: bool
) -> LeadList:
    """The newest list row of this file in this campaign; a new one on the first import, or
    with ``again`` once the newest is no longer importing."""
    found = session.scalars(
        select(LeadList)
        .where(LeadList.campaign_id == campaign_id, LeadList.file_sha256 == sha256)
        .order_by(LeadList.id.desc())
        .limit(1)
    ).one_or_none()
    if found is not None and not (again and found.status != "importing"):
        return found
    lead_list = LeadList(campaign_id=campaign_id, name=file_name, file_sha256=sha256)
    session.add(lead_list)
    session.flush()
    return lead_list


def _active_dnc(campaign_id: int, now: datetime) -> Any:
    return and_(
        or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == campaign_id),
        or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > now),
    )


def _one_of(session: Session, column: Any, values: list[str]) -> Any:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter instead of many."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String)))
    return column.in_(values)


def _dnc_prefixes(session: Session, campaign_id: int, now: datetime) -> list[str]:
    query = select(DncEntry.number).where(
        DncEntry.is_prefix.is_(True), _active_dnc(campaign_id, now)
    )
    return list(session.scalars(query))


def _dnc_exact(
    session: Session, campaign_id: int, numbers: list[str], now: datetime
) -> frozenset[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        chunk = numbers[start : start + _LOOKUP_CHUNK]
        query = select(DncEntry.number).where(
            DncEntry.is_prefix.is_(False),
            _one_of(session, DncEntry.number, chunk),
            _active_dnc(campaign_id, now),
        )
        found.update(session.scalars(query))
    return frozenset(found)


def _in_other_campaigns(session: Session, campaign_id: int, numbers: list[str]) -> dict[str, int]:
    """Numbers of ``numbers`` already leads of another campaign, with that campaign's id."""
    found: dict[str, int] = {}
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        chunk = numbers[start : start + _LOOKUP_CHUNK]
        query = select(Lead.phone_e164, Lead.campaign_id).where(
            _one_of(session, Lead.phone_e164, chunk), Lead.campaign_id != campaign_id
        )
        found.update((phone, cid) for phone, cid in session.execute(query))
    return found


_STAGED_COLUMNS = (
    "campaign_id", "lead_list_id", "source_row", "phone_e164", "phone_raw", "country",
    "region", "time_zones", "number_type", "custom_fields",
)  # fmt: skip


def _row(campaign_id: int, lead_list_id: int, c: LeadCandidate) -> tuple[object, ...]:
    return (
        campaign_id, lead_list_id, c.row_no, c.number.e164, c.raw[:64], c.number.country,
        c.number.region[:100], ",".join(sorted(c.number.time_zones)), c.number.number_type,
        json.dumps(c.custom_fields, ensure_ascii=False),
    )  # fmt: skip


def _insert_new(
    session: Session, campaign_id: int, lead_list_id: int, candidates: list[LeadCandidate]
) -> list[Reject]:
    """Insert candidates whose number the campaign lacks; the others come back as duplicates."""
    if not candidates:
        return []
    rows = [_row(campaign_id, lead_list_id, c) for c in candidates]
    if session.get_bind().dialect.name == "postgresql":
        inserted = _insert_by_copy(session, rows)
    else:
        inserted = _insert_by_statement(session, rows)
    dupes = [c for c in candidates if c.number.e164 not in inserted]
    return _explain_duplicates(session, campaign_id, lead_list_id, dupes)


def _insert_by_statement(session: Session, rows: list[tuple[object, ...]]) -> set[str]:
    now = utcnow()
    values = [dict(zip(_STAGED_COLUMNS, row, strict=True)) for row in rows]
    for value in values:
        value.update(status="pending", attempts=0, next_attempt_at=now, priority=0, created_at=now)
        value["custom_fields"] = json.loads(str(value["custom_fields"]))
    stmt = (
        sqlite.insert(Lead)
        .on_conflict_do_nothing(index_elements=["campaign_id", "phone_e164"])
        .returning(Lead.phone_e164)
    )
    return set(session.scalars(stmt, values))


def _insert_by_copy(session: Session, rows: list[tuple[object, ...]]) -> set[str]:
    """COPY into a per-transaction staging table, then one INSERT ... ON CONFLICT: an order
    of magnitude faster than multi-row INSERTs for large batches."""
    dbapi = session.connection().connection.driver_connection
    columns = ", ".join(_STAGED_COLUMNS)
    with dbapi.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS lead_import (campaign_id bigint, lead_list_id bigint,"
            " source_row int, phone_e164 text, phone_raw text, country text, region text,"
            " time_zones text, number_type text, custom_fields jsonb) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY lead_import ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO leads ({columns}, status, attempts, next_attempt_at, priority,"
            f" created_at) SELECT {columns}, 'pending', 0, now(), 0, now() FROM lead_import"
            " ON CONFLICT (campaign_id, phone_e164) DO NOTHING RETURNING phone_e164"
        )
        return {phone for (phone,) in cur.fetchall()}


def _explain_duplicates(
    session: Session, campaign_id: int, lead_list_id: int, dupes: list[LeadCandidate]
) -> list[Reject]:
    if not dupes:
        return []
    query = select(Lead.phone_e164, Lead.lead_list_id, Lead.source_row).where(
        Lead.campaign_id == campaign_id,
        _one_of(session, Lead.phone_e164, [c.number.e164 for c in dupes]),
    )
    origin = {phone: (list_id, row) for phone, list_id, row in session.execute(query)}
    rejects = []
    for cand in dupes:
        list_id, row = origin.get(cand.number.e164, (None, None))
        rejects.append(duplicate(cand, row if list_id == lead_list_id else None))
    return rejects


def _checkpoint(
    session: Session, lead_list_id: int, rows_done: int, counts: Mapping[RowOutcome, int]
) -> None:
    """Add this batch's counts and move ``rows_done``; commits with the batch's leads."""
    session.execute(
        update(LeadList)
        .where(LeadList.id == lead_list_id)
        .values(
            rows_done=rows_done,
            accepted=LeadList.accepted + counts.get(RowOutcome.ACCEPTED, 0),
            duplicate=LeadList.duplicate + counts.get(RowOutcome.DUPLICATE, 0),
            dnc=LeadList.dnc + counts.get(RowOutcome.DNC, 0),
            invalid=LeadList.invalid + counts.get(RowOutcome.INVALID, 0),
        )
    )
