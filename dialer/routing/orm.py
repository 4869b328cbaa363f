"""Tables of trunks and their rate decks, and the mapping of rows (trunks, a campaign's routing
columns) onto the pure routing values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import BigId, Campaign, JSONType, utcnow
from dialer.db.base import Base
from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    CampaignRouting,
    NumberFormat,
    NumberWindow,
    Trunk,
    UnknownRegionPolicy,
)
from dialer.routing.ratedeck import RateDeck, RateEntry

MONEY = Numeric(12, 6)


class TrunkRow(Base):
    __tablename__ = "trunks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    proxy_host: Mapped[str] = mapped_column(String(255))
    proxy_port: Mapped[int] = mapped_column(Integer, default=5060)
    sip_profile: Mapped[str] = mapped_column(String(63), default="external")
    fs_nodes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    register: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(255), default="")
    password: Mapped[str] = mapped_column(String(255), default="")
    realm: Mapped[str] = mapped_column(String(255), default="")
    callee_prefix: Mapped[str] = mapped_column(String(20), default="")
    number_format: Mapped[str] = mapped_column(String(16), default=NumberFormat.NATIONAL.value)
    caller_id_policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=0)
    max_cps: Mapped[int] = mapped_column(Integer, default=0)
    blind_areas: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    per_number_cap: Mapped[int] = mapped_column(Integer, default=0)
    per_number_window: Mapped[str] = mapped_column(String(8), default=NumberWindow.DAY.value)
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    active_hours: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ping_interval_s: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    rates: Mapped[list[RateRow]] = relationship(
        back_populates="trunk", cascade="all, delete-orphan", passive_deletes=True
    )


class RateRow(Base):
    __tablename__ = "rate_deck_entries"
    __table_args__ = (UniqueConstraint("trunk_id", "prefix"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The unique (trunk_id, prefix) index also serves look-ups by trunk.
    trunk_id: Mapped[int] = mapped_column(BigId, ForeignKey("trunks.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16))
    rate_per_min: Mapped[Decimal] = mapped_column(MONEY)
    billing_increment_s: Mapped[int] = mapped_column(Integer, default=60)
    connection_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))

    trunk: Mapped[TrunkRow] = relationship(back_populates="rates")


def _caller_id_to_json(policy: CallerIdPolicy) -> dict[str, Any]:
    return {
        "numbers": list(policy.numbers),
        "mode": policy.mode.value,
        "daily_cap_per_number": policy.daily_cap_per_number,
        "local_presence": policy.local_presence,
    }


def caller_id_from_json(data: dict[str, Any]) -> CallerIdPolicy:
    """The policy stored in a trunk row or a campaign's ``caller_id_policy`` column."""
    return CallerIdPolicy(
        numbers=tuple(str(n) for n in data.get("numbers", ())),
        mode=CallerIdMode(data.get("mode", CallerIdMode.SINGLE.value)),
        daily_cap_per_number=int(data.get("daily_cap_per_number", 0)),
        local_presence=bool(data.get("local_presence", False)),
    )


def campaign_routing_of(campaign: Campaign) -> CampaignRouting:
    """The campaign's routing: its trunk group and caller ID override (None: the trunks' own)."""
    policy = caller_id_from_json(campaign.caller_id_policy) if campaign.caller_id_policy else None
    return CampaignRouting(campaign.name, campaign.trunk_group, policy)


def row_from_trunk(trunk: Trunk, row: TrunkRow | None = None) -> TrunkRow:
    """Copy every setting of ``trunk`` (not its rates) onto ``row`` or a new row."""
    row = row or TrunkRow(name=trunk.name)
    row.proxy_host = trunk.proxy_host
    row.proxy_port = trunk.proxy_port
    row.sip_profile = trunk.sip_profile
    row.fs_nodes = list(trunk.fs_nodes)
    row.register = trunk.register
    row.username, row.password, row.realm = trunk.username, trunk.password, trunk.realm
    row.callee_prefix = trunk.callee_prefix
    row.number_format = trunk.number_format.value
    row.caller_id_policy = _caller_id_to_json(trunk.caller_id)
    row.max_concurrency, row.max_cps = trunk.max_concurrency, trunk.max_cps
    row.blind_areas = {
        "regions": list(trunk.blind_areas.regions),
        "prefixes": list(trunk.blind_areas.prefixes),
        "unknown_region": trunk.blind_areas.unknown_region.value,
    }
    row.per_number_cap = trunk.per_number_cap
    row.per_number_window = trunk.per_number_window.value
    row.time_zone = trunk.time_zone
    row.active_hours = [str(w) for w in trunk.active_hours]
    row.enabled, row.weight = trunk.enabled, trunk.weight
    row.groups = list(trunk.groups)
    row.ping_interval_s = trunk.ping_interval_s
    return row


def trunk_from_row(row: TrunkRow, with_rates: bool = True) -> Trunk:
    blind = row.blind_areas or {}
    rates = (
        RateDeck.of(
            RateEntry(r.prefix, r.rate_per_min, r.billing_increment_s, r.connection_fee)
            for r in row.rates
        )
        if with_rates
        else RateDeck()
    )
    return Trunk(
        name=row.name,
        proxy_host=row.proxy_host,
        proxy_port=row.proxy_port,
        sip_profile=row.sip_profile,
        fs_nodes=tuple(row.fs_nodes or ()),
        register=row.register,
        username=row.username,
        password=row.password,
        realm=row.realm,
        callee_prefix=row.callee_prefix,
        number_format=NumberFormat(row.number_format),
        caller_id=caller_id_from_json(row.caller_id_policy or {}),
        max_concurrency=row.max_concurrency,
        max_cps=row.max_cps,
        blind_areas=BlindAreas(
            regions=tuple(blind.get("regions", ())),
            prefixes=tuple(blind.get("prefixes", ())),
            unknown_region=UnknownRegionPolicy(blind.get("unknown_region", "allow")),
        ),
        per_number_cap=row.per_number_cap,
        per_number_window=NumberWindow(row.per_number_window),
        time_zone=row.time_zone,
        active_hours=tuple(ActiveWindow.parse(w) for w in row.active_hours or ()),
        enabled=row.enabled,
        weight=row.weight,
        groups=tuple(row.groups or ()),
        ping_interval_s=row.ping_interval_s,
        rates=rates,
    )
