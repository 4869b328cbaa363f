"""Routing's use cases on the database (SQLite and PostgreSQL): trunks and rate decks round-trip,
a route is explained for a campaign's trunk group."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import create_campaign, parse_spec
from dialer.routing.fakes import InMemoryReservations, InMemoryTrunkHealth
from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    InvalidValues,
    NumberWindow,
    Trunk,
    UnknownRegionPolicy,
)
from dialer.routing.ports import ReservationRequest
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.service import (
    RateDeckNotText,
    TrunkExists,
    TrunkNotFound,
    add_trunk,
    explain_route,
    get_trunk,
    import_rates,
    live_trunks,
    load_routing_table,
    parse_rate_file,
    rate_counts,
    rates_of,
    remove_trunk,
    update_trunk,
)
from tests.support.clock import FakeClock

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


def test_a_trunk_is_updated_validated_and_removed_with_its_rates(
    sessions: sessionmaker[Session],
) -> None:
    rows = [RateEntry("86139", Decimal("0.02")), RateEntry("86", Decimal("0.05"))]
    with sessions.begin() as session:
        add_trunk(session, SEED)
        import_rates(session, "xx", rows)
        changed = update_trunk(session, "xx", {"max_cps": 40, "enabled": False})
        assert changed == replace(SEED, max_cps=40, enabled=False)
    with sessions.begin() as session, pytest.raises(InvalidValues) as refused:
        update_trunk(session, "xx", {"max_cps": 50, "callee_prefix": "6#"})
    assert [f for f, _ in refused.value.problems] == ["callee_prefix"]
    with sessions() as session:
        assert get_trunk(session, "xx", with_rates=False) == replace(
            SEED, max_cps=40, enabled=False
        )
        assert rates_of(session, "xx") == sorted(rows)
        assert rates_of(session, "xx", offset=1, limit=5) == [rows[0]]
    with sessions.begin() as session:
        assert remove_trunk(session, "xx") == 2
    with sessions() as session:
        assert rate_counts(session) == {}
        for missing in (
            lambda: update_trunk(session, "xx", {}),
            lambda: remove_trunk(session, "xx"),
            lambda: rates_of(session, "xx"),
        ):
            with pytest.raises(TrunkNotFound):
                missing()


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (b"\xef\xbb\xbfprefix,rate\r\n86,0.05\r\n", ()),
        (b'prefix,rate,note\n86,0.05,"two\nlines"\n', ()),
        (b"prefix,rate\n86,0.05\n86,0.06\n", ("row 3: prefix 86 priced differently on row 2",)),
    ],
)
def test_a_rate_file_is_read_as_a_csv_file_is(raw: bytes, problems: tuple[str, ...]) -> None:
    parsed = parse_rate_file(io.BytesIO(raw))
    assert parsed.errors == problems
    assert parsed.rows[0] == RateEntry("86", Decimal("0.05"))


def test_a_rate_file_that_is_not_utf8_is_refused_wherever_the_bad_byte_is() -> None:
    late = b"prefix,rate\n" + b"86,0.05\n" * 20_000 + b"87,0.0\xff\n"
    for raw in (b"\xff\xfeprefix", late):
        with pytest.raises(RateDeckNotText):
            parse_rate_file(io.BytesIO(raw))


def test_live_trunks_are_their_lines_in_use_and_health() -> None:
    clock = FakeClock()
    reservations, health = InMemoryReservations(clock), InMemoryTrunkHealth()
    assert reservations.reserve(ReservationRequest("c1", "a", 10, 0, 60.0)).granted
    for _ in range(5):
        health.record("b", True, clock.now().timestamp())
    live = live_trunks(["a", "b"], reservations, health)
    assert live["a"].usage.in_flight == 1 and live["a"].health is None
    assert live["b"].usage.in_flight == 0 and live["b"].health is not None
    assert live["b"].health.consecutive_failures == 5
    assert live_trunks([], reservations, health) == {}
    assert live_trunks(["a"], reservations, None)["a"].health is None
