"""Routing's use cases over a SQLAlchemy session (the caller owns the transaction): trunks and
their rate decks, the routing table the pacers route with, a route explained for an operator.
The CLI (``dialer trunks|rates|route``) and the API (``/v1/trunks``, ``/v1/route``) call these
same functions.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from campaigns.models import Campaign
from campaigns.numbers import Invalid, normalize
from dialer.routing.health import TrunkHealth
from dialer.routing.model import CampaignRouting, Trunk, TrunkUsage, UsageSnapshot
from dialer.routing.orm import (
    RateRow,
    TrunkRow,
    campaign_routing_of,
    row_from_trunk,
    trunk_from_row,
)
from dialer.routing.ports import CapacityReservations, TrunkHealthStore
from dialer.routing.ratedeck import RateCsvResult, RateEntry, parse_rate_csv
from dialer.routing.router import RouteDecision, RoutingTable, route
from dialer.routing.spec import build_trunk, fields_of, updated_fields

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


def _row(session: Session, name: str) -> TrunkRow:
    row = session.scalar(select(TrunkRow).where(TrunkRow.name == name))
    if row is None:
        raise TrunkNotFound(f"no trunk named {name!r}")
    return row


def update_trunk(session: Session, name: str, changes: dict[str, Any]) -> Trunk:
    """Change settings of the trunk named ``name`` (`dialer.routing.spec.TrunkFields` names;
    ``enabled`` False disables it), validated as a new trunk is; its rates stay. Raises
    `TrunkNotFound`, or `InvalidValues` naming each bad field (nothing changed)."""
    row = _row(session, name)
    trunk = build_trunk(updated_fields(fields_of(trunk_from_row(row, False)), changes))
    row_from_trunk(trunk, row)
    session.flush()
    return trunk


def remove_trunk(session: Session, name: str) -> int:
    """Delete the trunk and its rate deck; how many rates went with it. Calls already
    placed keep the trunk's name in their records."""
    trunk_id = _row(session, name).id
    rates = rate_count(session, name)
    session.execute(delete(RateRow).where(RateRow.trunk_id == trunk_id))
    session.execute(delete(TrunkRow).where(TrunkRow.id == trunk_id))
    return int(rates or 0)


def rates_of(session: Session, name: str, offset: int = 0, limit: int = 1000) -> list[RateEntry]:
    """The trunk's rates by prefix, ``limit`` of them from the ``offset``-th."""
    trunk_id = _row(session, name).id
    rows = session.scalars(
        select(RateRow)
        .where(RateRow.trunk_id == trunk_id)
        .order_by(RateRow.prefix)
        .offset(offset)
        .limit(limit)
    )
    return [
        RateEntry(r.prefix, r.rate_per_min, r.billing_increment_s, r.connection_fee) for r in rows
    ]


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


def rate_count(session: Session, name: str) -> int:
    """How many rates the trunk named ``name`` has (0 for no such trunk)."""
    count = session.scalar(
        select(func.count(RateRow.id)).join(TrunkRow).where(TrunkRow.name == name)
    )
    return int(count or 0)


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


class RateDeckNotText(ValueError):
    """A rate deck file that is not UTF-8 text: nothing was imported."""


def parse_rate_file(raw: IO[bytes], *, header: bool = True) -> RateCsvResult:
    """A rate deck read from a binary file, as UTF-8 text (a BOM allowed) split into CSV
    records as a file opened with ``newline=""`` is (`parse_rate_csv`). Raises
    `RateDeckNotText` when it is not UTF-8 text. ``raw`` is left open."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        return parse_rate_csv(text, header=header)
    except UnicodeDecodeError:
        raise RateDeckNotText("not UTF-8 text; nothing imported") from None
    finally:
        text.detach()


def import_rate_file(session: Session, trunk_name: str, raw: IO[bytes], *, header: bool) -> int:
    """`import_rate_deck` of a binary CSV file, all or nothing (`parse_rate_file`)."""
    get_trunk(session, trunk_name, with_rates=False)
    return import_rate_deck(session, trunk_name, parse_rate_file(raw, header=header))


@dataclass(frozen=True, slots=True)
class TrunkLive:
    """A trunk's live figures as the pacers see them: ``health`` (None: healthy, or not
    known when ``known`` is False), lines in use and new calls in the last second."""

    health: TrunkHealth | None
    usage: TrunkUsage
    known: bool = True


def live_trunks(
    names: Iterable[str],
    reservations: CapacityReservations,
    health: TrunkHealthStore | None,
) -> dict[str, TrunkLive]:
    """Each trunk's health and lines in use, from the store the pacers share; the store's
    own errors (Redis down) propagate, for the caller to say health is unknown."""
    names = list(names)
    if not names:
        return {}
    usage = reservations.usage(names)
    seen = dict(health.snapshot(names)) if health is not None else {}
    return {n: TrunkLive(seen.get(n), usage.get(n, TrunkUsage())) for n in names}


def load_trunks(session: Session, with_rates: bool = True) -> list[Trunk]:
    """Every trunk, with its rate deck unless ``with_rates`` is False (a listing)."""
    if not with_rates:
        return [trunk_from_row(row, False) for row in session.scalars(select(TrunkRow))]
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
