"""The table of received CDRs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CdrRow(Base):
    """One customer leg's CDR, the XML as the switch sent it (decoded from its post), and
    what it cost (`dialer.cdr.billing`): ``cost`` NULL when the trunk's deck has no rate for
    the number (or the CDR came before costs were kept)."""

    __tablename__ = "cdrs"
    __table_args__ = (Index("ix_cdrs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    core_uuid: Mapped[str] = mapped_column(String(36), default="")
    attempt_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    xml: Mapped[str] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    trunk: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    billsec: Mapped[int] = mapped_column(Integer, default=0)
    billed_s: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(16, 6))
    agent: Mapped[str] = mapped_column(String(130), default="")
    queue_wait_s: Mapped[int | None] = mapped_column(Integer)
