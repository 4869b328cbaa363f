"""Routing's use cases over a SQLAlchemy session (the caller owns the transaction): trunks and
their rate decks, the routing table the pacers route with, a route explained for an operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from campaigns.models import Campaign
from dialer.routing.model import CampaignRouting, Trunk, UsageSnapshot
from dialer.routing.orm import (
    RateRow,
    TrunkRow,
    campaign_routing_of,
    row_from_trunk,
    trunk_from_row,
)
from dialer.routing.ratedeck import RateEntry
from dialer.routing.router import RouteDecision, RoutingTable, route

_INSERT_BATCH = 5_000


class TrunkExists(Exception):
    pass


class TrunkNotFound(Exception):
    pass


def add_trunk(session: Session, trunk_spec: Trunk) -> None:
    """Store a new trunk; its rates are imported apart (:func:`import_rates`)."""
    exists = session.scalar(select(TrunkRow.id).where(TrunkRow.name == trunk_spec.name))
    if exists is not None:
        raise TrunkExists(f"trunk {trunk_spec.name!r} already exists")
    session.add(row_from_trunk(trunk_spec))
    session.flush()


def trunk_names(session: Session) -> list[str]:
    return list(session.scalars(select(TrunkRow.name).order_by(TrunkRow.name)))


def rate_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(TrunkRow.name, func.count(RateRow.id))
        .outerjoin(RateRow)
        .group_by(TrunkRow.name)
        .order_by(TrunkRow.name)
    )
    return {name: int(count) for name, count in rows}


def get_trunk(session: Session, name: str, with_rates: bool = True) -> Trunk:
    row = session.scalar(select(TrunkRow).where(TrunkRow.name == name))
    if row is None:
        raise TrunkNotFound(f"no trunk named {name!r}")
    return trunk_from_row(row, with_rates)


def import_rates(session: Session, trunk_name: str, rows: Iterable[RateEntry]) -> int:
    """Replace the trunk's rate deck with ``rows``; returns how many were stored."""
    trunk_id = session.scalar(select(TrunkRow.id).where(TrunkRow.name == trunk_name))
    if trunk_id is None:
        raise TrunkNotFound(f"no trunk named {trunk_name!r}")
    session.execute(delete(RateRow).where(RateRow.trunk_id == trunk_id))
    batch: list[dict[str, object]] = []
    stored = 0
    for entry in rows:
        batch.append(
            {
                "trunk_id": trunk_id,
                "prefix": entry.prefix,
                "rate_per_min": entry.rate_per_min,
                "billing_increment_s": entry.billing_increment_s,
                "connection_fee": entry.connection_fee,
            }
        )
        if len(batch) >= _INSERT_BATCH:
            session.execute(insert(RateRow), batch)
            stored += len(batch)
            batch = []
    if batch:
        session.execute(insert(RateRow), batch)
        stored += len(batch)
    return stored


def load_trunks(session: Session) -> list[Trunk]:
    rows = session.scalars(select(TrunkRow).options(selectinload(TrunkRow.rates)))
    return [trunk_from_row(row) for row in rows]


def load_routing_table(session: Session, cost_band: Decimal = Decimal(0)) -> RoutingTable:
    return RoutingTable(load_trunks(session), cost_band)


def explain_route(
    session: Session,
    number_e164: str,
    now: datetime,
    campaign_name: str | None = None,
    cost_band: Decimal = Decimal(0),
) -> RouteDecision:
    """The trunks ranked for ``number_e164`` at aware ``now``, every exclusion explained, as
    for a call of the campaign named ``campaign_name`` (its trunk group and caller ID; None:
    every trunk) with no call in flight. Raises LookupError for an unknown campaign."""
    routing = CampaignRouting()
    if campaign_name is not None:
        campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
        if campaign is None:
            raise LookupError(f"no campaign named {campaign_name!r}")
        routing = campaign_routing_of(campaign)
    table = load_routing_table(session, cost_band)
    return route(number_e164, routing, now, table, UsageSnapshot())
