"""Table of the API calls context: one row per click-to-call or callback (its webhook
deliveries are ``webhook_deliveries`` rows, `dialer.postcall`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.models import BigId, JSONType
from dialer.db.base import Base, UtcDateTime


class ApiCallRow(Base):
    __tablename__ = "api_calls"
    __table_args__ = (
        UniqueConstraint("key_id", "idempotency_key"),
        Index("ix_api_calls_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64), default="")
    number: Mapped[str] = mapped_column(String(20))
    agent: Mapped[str | None] = mapped_column(String(130))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    trunks: Mapped[str] = mapped_column(String(1000), default="")
    ext: Mapped[Any] = mapped_column(JSONType, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    disposition: Mapped[str | None] = mapped_column(Text)
    trunk: Mapped[str | None] = mapped_column(String(100))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    node: Mapped[str | None] = mapped_column(String(100))
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    hangup_cause_q850: Mapped[int | None] = mapped_column(Integer)
    sip_status: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    originated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agent_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recording_path: Mapped[str | None] = mapped_column(Text)
