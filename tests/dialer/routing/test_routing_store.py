"""Trunks and rate decks round-trip through the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

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
