"""Tables of the agents context: an agent (name, contact) and its tiers (queue, level,
position)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import BigId
from dialer.db.base import Base


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(130), unique=True)
    contact: Mapped[str] = mapped_column(String(255))

    tiers: Mapped[list[AgentTierRow]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", passive_deletes=True
    )


class AgentTierRow(Base):
    __tablename__ = "agent_tiers"
    __table_args__ = (UniqueConstraint("agent_id", "queue"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=1)

    agent: Mapped[AgentRow] = relationship(back_populates="tiers")
