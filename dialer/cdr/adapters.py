"""The CDR store in the database (`CdrRow`); the facts are parsed again from the stored XML,
so what is kept is exactly what the switch sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from campaigns.models import CallAttempt, Campaign
from dialer.cdr.billing import Charge, CostLine, charge_of
from dialer.cdr.orm import CdrRow
from dialer.cdr.parse import CdrFacts, parse_cdr
from dialer.db.base import transaction
from dialer.routing.model import NumberFormat
from dialer.routing.orm import TrunkRow, trunk_from_row
from dialer.routing.ratedeck import RateEntry


class SqlCdrStore:
    """`dialer.cdr.ports.CdrStore` on SQLite / PostgreSQL."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(
        self, facts: CdrFacts, xml_text: str, received_at: datetime, charge: Charge | None = None
    ) -> bool:
        line = charge_of(facts, received_at, charge)
        row = CdrRow(
            call_uuid=facts.call_uuid,
            core_uuid=facts.core_uuid[:36],
            attempt_id=facts.attempt_id,
            received_at=received_at,
            xml=xml_text,
            campaign_id=line.campaign_id,
            trunk=line.trunk[:100],
            started_at=line.started_at,
            answered=line.answered,
            billsec=line.billsec,
            billed_s=line.billed_s,
            cost=line.cost,
            agent=line.agent[:130],
            queue_wait_s=line.queue_wait_s,
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

    def cost_lines(self, since: datetime, until: datetime) -> list[CostLine]:
        query = (
            select(CdrRow)
            .where(CdrRow.started_at >= since, CdrRow.started_at < until)
            .order_by(CdrRow.started_at, CdrRow.call_uuid)
        )
        with self._sessions() as session:
            return [_line(r) for r in session.scalars(query)]


def _line(r: CdrRow) -> CostLine:
    return CostLine(
        call_uuid=r.call_uuid,
        campaign_id=r.campaign_id,
        trunk=r.trunk,
        started_at=r.started_at or r.received_at,
        answered=r.answered,
        billsec=r.billsec,
        billed_s=r.billed_s,
        cost=r.cost,
        agent=r.agent,
        queue_wait_s=r.queue_wait_s,
    )


class SqlRates:
    """`dialer.cdr.ports.RateLookup` on the trunks' rate decks in the database. The number
    is the attempt's (E.164, as dialled by the dialer); for a call that is not the dialer's,
    the CDR's own without the trunk's callee prefix when the trunk dials E.164 (a national
    number alone does not say its country: not priced)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def rate(self, facts: CdrFacts) -> RateEntry | None:
        if not facts.trunk:
            return None
        with self._sessions() as session:
            row = session.scalar(
                select(TrunkRow)
                .where(TrunkRow.name == facts.trunk)
                .options(selectinload(TrunkRow.rates))
            )
            if row is None:
                return None
            trunk = trunk_from_row(row)
            number = None
            if facts.attempt_id is not None:
                number = session.scalar(
                    select(CallAttempt.dialed_number).where(CallAttempt.id == facts.attempt_id)
                )
        if number is None:
            if trunk.number_format is not NumberFormat.E164:
                return None
            number = facts.dialed_number.removeprefix(trunk.callee_prefix)
        digits = number.lstrip("+")
        return trunk.rates.lookup(digits) if digits.isdigit() else None


def campaign_names(sessions: sessionmaker[Session]) -> dict[int, str]:
    """Every campaign's name by id (the cost report names campaigns by them)."""
    with sessions() as session:
        return {cid: name for cid, name in session.execute(select(Campaign.id, Campaign.name))}
