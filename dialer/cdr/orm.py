"""The table of received CDRs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db.base import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CdrRow(Base):
    """One customer leg's CDR, the XML as the switch sent it (decoded from its post)."""

    __tablename__ = "cdrs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    core_uuid: Mapped[str] = mapped_column(String(36), default="")
    attempt_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    xml: Mapped[str] = mapped_column(Text)
