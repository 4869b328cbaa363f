"""Routing's use cases on the database (SQLite and PostgreSQL): trunks and rate decks round-trip,
a route is explained for a campaign's trunk group."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import create_campaign, parse_spec
from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    NumberWindow,
    Trunk,
    UnknownRegionPolicy,
)
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.service import (
    TrunkExists,
    TrunkNotFound,
    add_trunk,
    explain_route,
    get_trunk,
    import_rates,
    load_routing_table,
    rate_counts,
)

SEED = Trunk(
    name="xx",
    proxy_host="8.8.8.8",
    callee_prefix="6",
    caller_id=CallerIdPolicy(("20220601", "20220602"), CallerIdMode.LEAST_USED, 300, True),
    max_concurrency=500,
    max_cps=30,
    blind_areas=BlindAreas(("北", "新", "西"), ("86139",), UnknownRegionPolicy.BLOCK),
    per_number_cap=1,
    per_number_window=NumberWindow.DAY,
    active_hours=(ActiveWindow.parse("09:00-21:00"),),
    weight=3,
    groups=("sales",),
    fs_nodes=("fs1",),
)


def test_trunk_and_rates_round_trip(sessions: sessionmaker[Session]) -> None:
    rows = [RateEntry("86", Decimal("0.05")), RateEntry("86139", Decimal("0.031250"), 6)]
    with sessions.begin() as session:
        add_trunk(session, SEED)
        assert import_rates(session, "xx", rows) == 2
    with sessions() as session:
        stored = get_trunk(session, "xx")
        assert stored.rates == RateDeck.of(rows)
        assert stored.rates.lookup("8613912345678") == rows[1]
        without_rates = get_trunk(session, "xx", with_rates=False)
        assert without_rates == SEED
        assert rate_counts(session) == {"xx": 2}
        table = load_routing_table(session)
        assert table.by_name["xx"].rates.lookup("8613812345678") == rows[0]


def test_import_replaces_the_deck_and_names_are_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_trunk(session, SEED)
        import_rates(session, "xx", [RateEntry("86", Decimal("0.05"))])
        import_rates(session, "xx", [RateEntry("8613", Decimal("0.04"))])
        with pytest.raises(TrunkExists):
            add_trunk(session, SEED)
        with pytest.raises(TrunkNotFound):
            import_rates(session, "nope", [])
    with sessions() as session:
        assert list(get_trunk(session, "xx").rates.entries) == ["8613"]


def test_a_route_is_explained_for_a_campaigns_trunk_group(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        for name, group in (("s1", "sales"), ("c1", "collections")):
            add_trunk(session, Trunk(name=name, proxy_host="192.0.2.1", groups=(group,)))
            import_rates(session, name, [RateEntry("86", Decimal("0.05"))])
        spec = parse_spec(name="spring", queue_name="sales@default", trunk_group="sales")
        create_campaign(session, spec)
    now = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    with sessions() as session:
        every = explain_route(session, "+8613912345678", now)
        grouped = explain_route(session, "+8613912345678", now, "spring")
        with pytest.raises(LookupError, match="no campaign named 'nope'"):
            explain_route(session, "+8613912345678", now, "nope")
    assert sorted(c.trunk for c in every.candidates) == ["c1", "s1"]
    assert [c.trunk for c in grouped.candidates] == ["s1"]
    assert grouped.candidates[0].dial_string == "sofia/gateway/s1/13912345678"
