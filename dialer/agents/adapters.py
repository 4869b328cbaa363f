"""`SqlAgentStore`: agents and their tiers in the database (tables of `dialer.agents.orm`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from dialer.agents.orm import AgentRow, AgentTierRow
from dialer.agents.ports import AgentRecord, Tier
from dialer.db.base import transaction


def _record(row: AgentRow) -> AgentRecord:
    tiers = tuple(Tier(t.queue, t.level, t.position) for t in row.tiers)
    return AgentRecord(row.name, row.contact).with_tiers(tiers)


class SqlAgentStore:
    """`dialer.agents.ports.AgentStore` over SQLAlchemy; each call is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, name: str) -> AgentRecord | None:
        with self._sessions() as session:
            row = session.scalar(
                select(AgentRow).options(selectinload(AgentRow.tiers)).where(AgentRow.name == name)
            )
            return _record(row) if row is not None else None

    def all(self) -> list[AgentRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(AgentRow).options(selectinload(AgentRow.tiers)).order_by(AgentRow.name)
            )
            return [_record(row) for row in rows]

    def put(self, record: AgentRecord) -> None:
        whole = record.with_tiers(record.tiers)
        with transaction(self._sessions) as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == whole.name))
            if row is None:
                row = AgentRow(name=whole.name, contact=whole.contact)
                session.add(row)
                session.flush()
            row.contact = whole.contact
            session.execute(delete(AgentTierRow).where(AgentTierRow.agent_id == row.id))
            session.add_all(
                AgentTierRow(agent_id=row.id, queue=t.queue, level=t.level, position=t.position)
                for t in whole.tiers
            )

    def remove(self, name: str) -> bool:
        with transaction(self._sessions) as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == name))
            if row is None:
                return False
            session.execute(delete(AgentTierRow).where(AgentTierRow.agent_id == row.id))
            session.delete(row)
            return True
