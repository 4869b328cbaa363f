"""Routing's use cases over a SQLAlchemy session (the caller owns the transaction): trunks and
their rate decks, the routing table the pacers route with, a route explained for an operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from campaigns.models import Campaign
from campaigns.numbers import Invalid, normalize
from dialer.routing.health import TrunkHealth
from dialer.routing.model import CampaignRouting, Trunk, UsageSnapshot
from dialer.routing.orm import (
    RateRow,
    TrunkRow,
    campaign_routing_of,
    row_from_trunk,
    trunk_from_row,
)
from dialer.routing.ratedeck import RateCsvResult, RateEntry
from dialer.routing.router import RouteDecision, RoutingTable, route

_INSERT_BATCH = 5_000


class TrunkExists(Exception):
    pass


class TrunkNotFound(Exception):
    pass


class RateDeckRejected(Exception):
    """A rate deck with bad rows, or none at all: nothing was imported. ``problems`` holds one
    line per bad row (``row N: why``)."""

    def __init__(self, trunk_name: str, problems: tuple[str, ...]) -> None:
        self.problems = problems
        what = "no rates" if not problems else f"{len(problems)} bad row(s)"
        super().__init__(f"{what}: nothing imported, the rates of {trunk_name} are unchanged")


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


def import_rate_deck(session: Session, trunk_name: str, deck: RateCsvResult) -> int:
    """Replace the trunk's rate deck with a parsed deck, all or nothing: a deck with any bad row
    or with no row raises `RateDeckRejected` and leaves the stored deck as it was. Returns how
    many rates were stored."""
    get_trunk(session, trunk_name, with_rates=False)
    if deck.errors or not deck.rows:
        raise RateDeckRejected(trunk_name, deck.errors)
    return import_rates(session, trunk_name, deck.rows)


def load_trunks(session: Session) -> list[Trunk]:
    rows = session.scalars(select(TrunkRow).options(selectinload(TrunkRow.rates)))
    return [trunk_from_row(row) for row in rows]


def load_routing_table(session: Session, cost_band: Decimal = Decimal(0)) -> RoutingTable:
    return RoutingTable(load_trunks(session), cost_band)


class UnroutableNumber(ValueError):
    """A number ``dialer route`` cannot read as a phone number; the message says why."""


def explain_route(
    session: Session,
    number: str,
    now: datetime,
    campaign_name: str | None = None,
    cost_band: Decimal = Decimal(0),
    *,
    default_region: str = "CN",
    health: Mapping[str, TrunkHealth] | None = None,
) -> RouteDecision:
    """The trunks ranked for ``number`` at aware ``now``, every exclusion explained, as for a
    call of the campaign named ``campaign_name`` (its trunk group and caller ID; None: every
    trunk) with no call in flight and the trunks' ``health`` (absent: healthy).

    ``number`` is read as the lead importer reads it (`campaigns.numbers.normalize`): written
    without ``+country`` it is in the campaign's default region, else in ``default_region``.
    Raises LookupError for an unknown campaign and `UnroutableNumber` for an invalid number.
    """
    routing = CampaignRouting()
    region = default_region
    if campaign_name is not None:
        campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
        if campaign is None:
            raise LookupError(f"no campaign named {campaign_name!r}")
        routing = campaign_routing_of(campaign)
        region = campaign.default_region
    parsed = normalize(number, region)
    if isinstance(parsed, Invalid):
        reason = parsed.reason
        raise UnroutableNumber(f"cannot route {number!r} (read in region {region}): {reason}")
    table = load_routing_table(session, cost_band)
    usage = UsageSnapshot(health=dict(health or {}))
    return route(parsed.e164, routing, now, table, usage)
