"""Tables of the campaigns context: campaigns, lead lists, leads, DNC entries, call attempts.

All times are timezone-aware UTC.  Phone numbers are E.164 strings (``+8613800138000``).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.domain import CampaignStatus, DialMode, LeadStatus, RetryOrder
from dialer.db.base import Base, UtcDateTime

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the value strings, checked by a named CHECK constraint on both databases.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    dial_mode: Mapped[DialMode] = mapped_column(
        _enum(DialMode, "dial_mode"), default=DialMode.PREDICTIVE
    )
    queue_name: Mapped[str] = mapped_column(String(100))
    default_region: Mapped[str] = mapped_column(String(2), default="CN")
    # CallingWindow rules and RetryPolicy as JSON (campaigns.rules defines the schema).
    calling_window: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    retry_rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    abandon_target_pct: Mapped[float] = mapped_column(Float, default=3.0)
    abandon_window_days: Mapped[int] = mapped_column(Integer, default=30)
    # The safety stop pauses the campaign after this many answered calls in a row abandoned.
    abandon_run_limit: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_order: Mapped[RetryOrder] = mapped_column(
        _enum(RetryOrder, "retry_order"),
        default=RetryOrder.RETRIES_FIRST,
        server_default=RetryOrder.RETRIES_FIRST.value,
    )
    trunk_group: Mapped[str | None] = mapped_column(String(100))
    caller_id_policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Each ended attempt is POSTed here as JSON (docs/postcall.md); NULL: no webhook.
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    # Signs every delivery to webhook_url (dialer.postcall.signing); set whenever it is.
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    # Why and when the dialer paused the campaign itself (the abandon safety stop); NULL
    # when it is not paused by the dialer. Starting the campaign clears both.
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Answered calls are recorded and uploaded to the API after hangup (docs/recordings.md).
    record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LeadList(Base):
    """One import of a file; ``rows_done`` is the import checkpoint, committed with each batch.

    ``status``: ``importing``, ``complete``, or ``archived`` (its leads are never claimed).
    A file imported again with ``--force`` gets a list of its own, so ``file_sha256`` is not
    unique in a campaign: the newest list of a file is the one an import resumes.
    """

    __tablename__ = "lead_lists"
    __table_args__ = (Index("ix_lead_lists_campaign_id_file_sha256", "campaign_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="importing")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    dnc: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone_e164"),
        # The claim walks one of these in its campaign's order (`RetryOrder`: due order,
        # retries first, fresh leads first), reading only pending rows.
        Index(
            "ix_leads_due",
            "campaign_id",
            text("priority DESC"),
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_leads_due_retries_first",
            "campaign_id",
            text("priority DESC"),
            text("(attempts = 0)"),
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_leads_due_fresh_first",
            "campaign_id",
            text("priority DESC"),
            text("(attempts > 0)"),
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_leads_phone_e164", "phone_e164"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_list_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead_lists.id", ondelete="SET NULL")
    )
    source_row: Mapped[int | None] = mapped_column(Integer)
    phone_e164: Mapped[str] = mapped_column(String(20))
    phone_raw: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(100), default="")
    # Comma-joined IANA zones, sorted; the claim query filters on it to honour calling windows.
    time_zones: Mapped[str] = mapped_column(String(255), default="")
    number_type: Mapped[str] = mapped_column(String(24))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[LeadStatus] = mapped_column(
        _enum(LeadStatus, "lead_status"), default=LeadStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DncEntry(Base):
    """A number (``is_prefix`` false) or a number prefix never to be dialled.

    ``campaign_id`` NULL means every campaign; ``expires_at`` NULL means forever.
    """

    __tablename__ = "dnc_entries"
    __table_args__ = (Index("ix_dnc_entries_number_is_prefix", "number", "is_prefix"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    is_prefix: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(100), default="manual")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CallAttempt(Base):
    """One row per originate, keyed by the pre-assigned call uuid."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_campaign_id_originated_at", "campaign_id", "originated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer, default=1)
    node: Mapped[str | None] = mapped_column(String(100))
    trunk: Mapped[str | None] = mapped_column(String(100))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    dialed_number: Mapped[str] = mapped_column(String(40))
    originated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    # Why the switch ended the call, as it said so: the Q.850 cause code and the final SIP
    # response code (``sip_term_status``); NULL when no channel ended or no SIP reply came.
    hangup_cause_q850: Mapped[int | None] = mapped_column(Integer)
    sip_status: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(24))
    agent: Mapped[str | None] = mapped_column(String(100))
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_path: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 5))
    # Set once, after the call ended, by an agent or a business system (dialer.postcall).
    disposition: Mapped[str | None] = mapped_column(String(24))
    disposition_note: Mapped[str | None] = mapped_column(Text)
    disposition_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    callback_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The public id of the system API key that placed the call through the API (its webhook
    # gets the call's events); NULL for a campaign call.
    api_key_id: Mapped[str | None] = mapped_column(String(32), index=True)


class WebhookDelivery(Base):
    """The delivery of one event of a call: a campaign call's (``attempt_id``:
    ``call.ended``, or ``campaign.paused`` when the attempt's end paused its campaign) or an
    API call's (``api_call_id``: its ``call.ended``); exactly one of the two is set. One row
    per call and event, updated by every try (each also logged in ``webhook_tries``).
    ``state``: ``retrying`` (due at ``next_try_at``), ``delivered`` or ``failed``;
    ``status_code`` (NULL: no HTTP response) and ``error`` are those of the last try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("attempt_id", "event"),
        UniqueConstraint("api_call_id", "event"),
        CheckConstraint("(attempt_id IS NULL) <> (api_call_id IS NULL)", name="one_call"),
        # the sweep of due retries reads retrying rows in next_try_at order
        Index("ix_webhook_deliveries_state_next_try_at", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE")
    )
    api_call_id: Mapped[int | None] = mapped_column(ForeignKey("api_calls.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(
        String(32), default="call.ended", server_default="call.ended"
    )
    url: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    last_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The JSON body of the first try, UTF-8 text; every retry sends it unchanged.
    body: Mapped[str | None] = mapped_column(Text)


class WebhookTry(Base):
    """One try of a delivery: when, where, the answer, and the next try planned after it."""

    __tablename__ = "webhook_tries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    tried_at: Mapped[datetime] = mapped_column(UtcDateTime)
    url: Mapped[str] = mapped_column(String(2048))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
