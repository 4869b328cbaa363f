"""The CDR store in the database (`CdrRow`); the facts are parsed again from the stored XML,
so what is kept is exactly what the switch sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dialer.cdr.orm import CdrRow
from dialer.cdr.parse import CdrFacts, parse_cdr
from dialer.db.base import transaction


class SqlCdrStore:
    """`dialer.cdr.ports.CdrStore` on SQLite / PostgreSQL."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, facts: CdrFacts, xml_text: str, received_at: datetime) -> bool:
        row = CdrRow(
            call_uuid=facts.call_uuid,
            core_uuid=facts.core_uuid[:36],
            attempt_id=facts.attempt_id,
            received_at=received_at,
            xml=xml_text,
        )
        try:
            with transaction(self._sessions) as session:
                if session.scalar(select(CdrRow.id).where(CdrRow.call_uuid == facts.call_uuid)):
                    return False
                session.add(row)
        except IntegrityError:
            return False  # the same leg posted twice at once: the other insert won
        return True

    def get(self, call_uuid: str) -> CdrFacts | None:
        with self._sessions() as session:
            xml_text = session.scalar(select(CdrRow.xml).where(CdrRow.call_uuid == call_uuid))
        return parse_cdr(xml_text) if xml_text is not None else None
