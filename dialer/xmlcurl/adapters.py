"""`SwitchData` on the dialer's database: campaigns, trunks, DNC entries, agents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.dnc import global_prefixes
from campaigns.models import Campaign
from dialer.agents.orm import AgentRow
from dialer.routing.model import Trunk
from dialer.routing.service import load_trunks


class SqlSwitchData:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def campaigns(self) -> list[tuple[str, str]]:
        with self._sessions() as session:
            rows = session.execute(
                select(Campaign.name, Campaign.queue_name).order_by(Campaign.name)
            )
            return [(name, queue) for name, queue in rows]

    def trunks(self) -> list[Trunk]:
        with self._sessions() as session:
            return sorted(load_trunks(session, with_rates=False), key=lambda t: t.name)

    def dnc_prefixes(self, now: datetime) -> list[str]:
        with self._sessions() as session:
            return global_prefixes(session, now)

    def agent_contacts(self) -> list[tuple[str, str]]:
        with self._sessions() as session:
            rows = session.execute(select(AgentRow.name, AgentRow.contact).order_by(AgentRow.name))
            return [(name, contact) for name, contact in rows]
