"""The router: exclusions explained, ranking, weights, caller IDs, failover; properties."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.routing.claim import calendar_window, claim
from dialer.routing.failover import after_failure, next_candidate
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.geo import BlindMatcher, region_of
from dialer.routing.health import TrunkHealth, TrunkQuality
from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdPolicy,
    CampaignRouting,
    NumberWindow,
    Trunk,
    TrunkUsage,
    UnknownRegionPolicy,
    UsageSnapshot,
)
from dialer.routing.ports import Refusal
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.router import Exclusion, RouterState, RoutingTable, free_lines, route
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
BEIJING = "+8613800138000"
JIANGSU = "+8651912345678"
MakeTrunk = Callable[..., Trunk]


def test_seed_trunk_end_to_end(make_trunk: MakeTrunk) -> None:
    """IP 8.8.8.8, caller ID 20220601, prefix 6, concurrency 500, once a day, blind 北、新、西."""
    seed = make_trunk(
        "xx",
        proxy_host="8.8.8.8",
        callee_prefix="6",
        caller_id=CallerIdPolicy(("20220601",)),
        max_concurrency=500,
        per_number_cap=1,
        blind_areas=BlindAreas(("北", "新", "西")),
    )
    table = RoutingTable([seed])
    ok = route(JIANGSU, CampaignRouting(), NOW, table, UsageSnapshot())
    assert [(c.dial_string, c.caller_id) for c in ok.candidates] == [
        ("sofia/gateway/xx/6051912345678", "20220601")
    ]
    mobile = route("+8613912345678", CampaignRouting(), NOW, table, UsageSnapshot())
    assert mobile.candidates[0].dial_string == "sofia/gateway/xx/613912345678"
    blind = route(BEIJING, CampaignRouting(), NOW, table, UsageSnapshot())
    assert blind.candidates == ()
    assert [(x.trunk, x.reason) for x in blind.exclusions] == [("xx", Exclusion.BLIND_AREA)]
    usage = UsageSnapshot(
        trunks={"xx": TrunkUsage(in_flight=500)},
    )
    full = route(JIANGSU, CampaignRouting(), NOW, table, usage)
    assert full.exclusions[0].reason is Exclusion.CONCURRENCY
    once = UsageSnapshot(number_calls={("xx", JIANGSU): 1})
    assert route(JIANGSU, CampaignRouting(), NOW, table, once).exclusions[0].reason is (
        Exclusion.PER_NUMBER_CAP
    )


def test_every_exclusion_is_explained(make_trunk: MakeTrunk) -> None:
    trunks = [
        make_trunk("a_disabled", enabled=False),
        make_trunk("b_weight0", weight=0),
        make_trunk("c_hours", active_hours=(ActiveWindow.parse("20:00-21:00"),)),
        make_trunk("d_down"),
        make_trunk("e_blind", blind_areas=BlindAreas(("Jiangsu",))),
        make_trunk("f_norate", rates={"1": "0.01"}),
        make_trunk("g_conc", max_concurrency=3),
        make_trunk("h_cps", max_cps=10),
        make_trunk("i_cid", caller_id=CallerIdPolicy(("1", "2"), daily_cap_per_number=4)),
        make_trunk("j_ok"),
    ]
    usage = UsageSnapshot(
        trunks={"g_conc": TrunkUsage(in_flight=3), "h_cps": TrunkUsage(calls_last_second=10)},
        caller_id_calls={("i_cid", "1"): 4, ("i_cid", "2"): 9},
        health={"d_down": TrunkHealth(gateway_up=False)},
    )
    decision = route(JIANGSU, CampaignRouting(), NOW, RoutingTable(trunks), usage)
    assert [c.trunk for c in decision.candidates] == ["j_ok"]
    reasons = {x.trunk: x.reason for x in decision.exclusions}
    assert reasons == {
        "a_disabled": Exclusion.DISABLED,
        "b_weight0": Exclusion.WEIGHT_ZERO,
        "c_hours": Exclusion.OUTSIDE_HOURS,
        "d_down": Exclusion.DOWN,
        "e_blind": Exclusion.BLIND_AREA,
        "f_norate": Exclusion.NO_RATE,
        "g_conc": Exclusion.CONCURRENCY,
        "h_cps": Exclusion.CPS,
        "i_cid": Exclusion.CALLER_ID_CAP,
    }
    assert all(x.detail for x in decision.exclusions)


def test_a_number_that_is_not_digits_is_excluded_not_a_crash(make_trunk: MakeTrunk) -> None:
    table = RoutingTable([make_trunk("a"), make_trunk("b")])
    for bad in ("+86138abc0001", "+", "+８６１３８"):
        decision = route(bad, CampaignRouting(), NOW, table, UsageSnapshot())
        assert decision.candidates == ()
        assert {(x.trunk, x.reason) for x in decision.exclusions} == {
            ("a", Exclusion.NOT_A_NUMBER),
            ("b", Exclusion.NOT_A_NUMBER),
        }


def test_rank_by_longest_prefix_rate_then_quality(make_trunk: MakeTrunk) -> None:
    trunks = [
        make_trunk("cheap_general", {"86": "0.02"}),
        make_trunk("specific", {"86": "0.01", "86519": "0.04"}),
        make_trunk("mid_good", {"86": "0.03"}),
        make_trunk("mid_bad", {"86": "0.03"}),
    ]
    usage = UsageSnapshot(
        quality={"mid_good": TrunkQuality(asr=0.6), "mid_bad": TrunkQuality(asr=0.3)}
    )
    decision = route(JIANGSU, CampaignRouting(), NOW, RoutingTable(trunks), usage)
    assert [c.trunk for c in decision.candidates] == [
        "cheap_general",
        "mid_good",
        "mid_bad",
        "specific",
    ]
    assert decision.candidates[-1].rate.prefix == "86519"


def test_equal_cost_shares_follow_weights_and_state(make_trunk: MakeTrunk) -> None:
    trunks = [make_trunk("a", weight=3), make_trunk("b", weight=1), make_trunk("z", weight=0)]
    table = RoutingTable(trunks)
    state = RouterState()
    firsts: Counter[str] = Counter()
    for _ in range(400):
        decision = route(JIANGSU, CampaignRouting(), NOW, table, UsageSnapshot(), state)
        state = decision.state
        firsts[decision.candidates[0].trunk] += 1
        assert [c.trunk for c in decision.candidates if c.trunk == "z"] == []
    assert firsts == Counter({"a": 300, "b": 100})


def test_cost_band_shares_near_equal_rates(make_trunk: MakeTrunk) -> None:
    trunks = [make_trunk("a", {"86": "0.100"}), make_trunk("b", {"86": "0.104"})]
    strict = RoutingTable(trunks)
    banded = RoutingTable(trunks, cost_band=Decimal("0.05"))
    state = RouterState()
    seen_strict, seen_banded = set(), set()
    for _ in range(4):
        seen_strict.add(
            route(JIANGSU, CampaignRouting(), NOW, strict, UsageSnapshot()).candidates[0].trunk
        )
        d = route(JIANGSU, CampaignRouting(), NOW, banded, UsageSnapshot(), state)
        state = d.state
        seen_banded.add(d.candidates[0].trunk)
    assert seen_strict == {"a"}
    assert seen_banded == {"a", "b"}


def test_trunk_groups_and_campaign_caller_id(make_trunk: MakeTrunk) -> None:
    trunks = [
        make_trunk("sales1", groups=("sales",), caller_id=CallerIdPolicy(("555",))),
        make_trunk("other", groups=("collections",)),
    ]
    table = RoutingTable(trunks)
    campaign = CampaignRouting("c", "sales", CallerIdPolicy(("777",)))
    decision = route(JIANGSU, campaign, NOW, table, UsageSnapshot())
    assert [(c.trunk, c.caller_id) for c in decision.candidates] == [("sales1", "777")]
    assert (
        route(JIANGSU, CampaignRouting(trunk_group="none"), NOW, table, UsageSnapshot()).candidates
        == ()
    )


def test_probe_lets_one_call_through(make_trunk: MakeTrunk) -> None:
    """Calls placed before the suspension still up do not hold the trial back; a trial on
    its way does."""
    table = RoutingTable([make_trunk("t")])
    suspended = TrunkHealth(consecutive_failures=5, suspended_until_s=NOW.timestamp() - 1)
    probe = route(JIANGSU, CampaignRouting(), NOW, table, UsageSnapshot(health={"t": suspended}))
    assert probe.candidates[0].probe
    old_calls_up = UsageSnapshot(health={"t": suspended}, trunks={"t": TrunkUsage(in_flight=3)})
    assert route(JIANGSU, CampaignRouting(), NOW, table, old_calls_up).candidates[0].probe
    trial_out = replace(suspended, trial_call="u1", trial_until_s=NOW.timestamp() + 60)
    busy = UsageSnapshot(health={"t": trial_out}, trunks={"t": TrunkUsage(in_flight=1)})
    assert (
        route(JIANGSU, CampaignRouting(), NOW, table, busy).exclusions[0].reason is Exclusion.DOWN
    )


def test_failover_moves_to_the_next_candidate(make_trunk: MakeTrunk) -> None:
    trunks = [make_trunk("a", {"86": "0.01"}), make_trunk("b", {"86": "0.02"})]
    decision = route(JIANGSU, CampaignRouting(), NOW, RoutingTable(trunks), UsageSnapshot())
    first = next_candidate(decision, ())
    assert first is not None and first.trunk == "a"
    nxt = after_failure(decision, {"a"}, "NORMAL_TEMPORARY_FAILURE", 503)
    assert nxt is not None and nxt.trunk == "b"
    assert after_failure(decision, {"a"}, "GATEWAY_DOWN") == nxt
    assert after_failure(decision, {"a"}, "USER_BUSY", 486) is None
    assert after_failure(decision, {"a", "b"}, "GATEWAY_DOWN") is None


def test_free_lines_count_the_unused_concurrency_of_usable_trunks(make_trunk: MakeTrunk) -> None:
    sales = ("sales",)
    suspended = TrunkHealth(consecutive_failures=5, suspended_until_s=NOW.timestamp() + 60)
    probing = TrunkHealth(consecutive_failures=5, suspended_until_s=NOW.timestamp() - 1)
    trunks = [
        make_trunk("disabled", groups=sales, max_concurrency=10, enabled=False),
        make_trunk("weight0", groups=sales, max_concurrency=10, weight=0),
        make_trunk("gw_down", groups=sales, max_concurrency=10),
        make_trunk("suspended", groups=sales, max_concurrency=10),
        make_trunk("probing", groups=sales, max_concurrency=2),
        make_trunk("busy", groups=sales, max_concurrency=5),
        make_trunk("over", groups=sales, max_concurrency=4),
        make_trunk("elsewhere", groups=("collections",), max_concurrency=7),
    ]
    usage = UsageSnapshot(
        trunks={"busy": TrunkUsage(in_flight=2), "over": TrunkUsage(in_flight=6)},
        health={
            "gw_down": TrunkHealth(gateway_up=False),
            "suspended": suspended,
            "probing": probing,
        },
    )
    table = RoutingTable(trunks)
    campaign = CampaignRouting("c", "sales")
    # probing 1 (its trial call) + busy 5-2 + over 0; a probing trunk is not down.
    assert free_lines(campaign, NOW, table, usage) == 4
    assert free_lines(CampaignRouting("c", "collections"), NOW, table, usage) == 7
    assert free_lines(CampaignRouting("c", "none"), NOW, table, usage) == 0
    assert free_lines(CampaignRouting(), NOW, table, usage) == 11
    unlimited = RoutingTable([*trunks, make_trunk("open", groups=sales)])
    assert free_lines(campaign, NOW, unlimited, usage) is None
    open_down = UsageSnapshot(trunks=usage.trunks, health={**usage.health, "open": suspended})
    assert free_lines(campaign, NOW, unlimited, open_down) == 4


def test_unreachable_only_when_the_table_itself_excludes_every_trunk(
    make_trunk: MakeTrunk,
) -> None:
    blind = make_trunk("blind", blind_areas=BlindAreas(("Jiangsu",)))
    full = make_trunk("full", max_concurrency=1)
    busy = UsageSnapshot(trunks={"full": TrunkUsage(in_flight=1)})
    only_blind = route(JIANGSU, CampaignRouting(), NOW, RoutingTable([blind]), busy)
    assert only_blind.unreachable()
    both = route(JIANGSU, CampaignRouting(), NOW, RoutingTable([blind, full]), busy)
    assert both.candidates == () and not both.unreachable()
    free = route(JIANGSU, CampaignRouting(), NOW, RoutingTable([blind, full]), UsageSnapshot())
    assert free.candidates and not free.unreachable()


# --- properties -------------------------------------------------------------------------

NUMBERS = [BEIJING, JIANGSU, "+8618999999999", "+8613908912345", "+864001234567", "+8613912345678"]
REGIONS = ["北", "新", "西", "Beijing", "Jiangsu", "Tibet", "江苏"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Trunk], UsageSnapshot]:
    count = draw(st.integers(1, 8))
    trunks, live = [], {}
    for i in range(count):
        name = f"t{i}"
        conc = draw(st.integers(0, 5))
        cps = draw(st.integers(0, 5))
        trunks.append(
            Trunk(
                name=name,
                proxy_host="192.0.2.1",
                max_concurrency=conc,
                max_cps=cps,
                weight=draw(st.integers(0, 4)),
                enabled=draw(st.booleans()),
                blind_areas=BlindAreas(
                    tuple(draw(st.lists(st.sampled_from(REGIONS), max_size=3))),
                    tuple(draw(st.lists(st.sampled_from(["86138", "86519"]), max_size=1))),
                    draw(st.sampled_from(list(UnknownRegionPolicy))),
                ),
                rates=RateDeck.of(
                    RateEntry(p, Decimal(draw(st.sampled_from(["0.01", "0.02", "0.03"]))))
                    for p in draw(st.lists(st.sampled_from(["86", "8613", "86519"]), max_size=3))
                ),
            )
        )
        live[name] = TrunkUsage(draw(st.integers(0, 6)), draw(st.integers(0, 6)))
    return trunks, UsageSnapshot(trunks=live)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), number=st.sampled_from(NUMBERS))
def test_router_invariants(scenario: tuple[list[Trunk], UsageSnapshot], number: str) -> None:
    trunks, usage = scenario
    table = RoutingTable(trunks)
    decision = route(number, CampaignRouting(), NOW, table, usage)
    chosen = [c.trunk for c in decision.candidates]
    excluded = [x.trunk for x in decision.exclusions]
    # Every trunk is either a candidate or explained, exactly once.
    assert sorted(chosen + excluded) == sorted(t.name for t in trunks)
    region = region_of(number)
    for c in decision.candidates:
        t = table.by_name[c.trunk]
        live = usage.trunks[c.trunk]
        assert BlindMatcher.compile(t.blind_areas).blocks(number[1:], region) is None
        assert t.weight > 0 and t.enabled
        assert not t.max_concurrency or live.in_flight < t.max_concurrency
        assert not t.max_cps or live.calls_last_second < t.max_cps
        assert c.rate == t.rates.lookup(number[1:])
    rates = [c.rate.rate_per_min for c in decision.candidates[1:]]
    assert rates == sorted(rates)
    if decision.candidates:
        cheapest = min(c.rate.rate_per_min for c in decision.candidates)
        assert decision.candidates[0].rate.rate_per_min == cheapest
    # The pacer is told of no free line only when the router has no trunk to give.
    if free_lines(CampaignRouting(), NOW, table, usage) == 0:
        assert decision.candidates == ()


def test_claim_reserves_the_first_candidate_that_fits(make_trunk: MakeTrunk) -> None:
    reservations = InMemoryReservations(FakeClock())
    trunks = [
        make_trunk("a", {"86": "0.01"}, max_concurrency=1, per_number_cap=1),
        make_trunk(
            "b",
            {"86": "0.02"},
            caller_id=CallerIdPolicy(("555",), daily_cap_per_number=1),
        ),
    ]
    table = RoutingTable(trunks)
    decision = route(JIANGSU, CampaignRouting(), NOW, table, UsageSnapshot())
    first = claim(decision, table.by_name, reservations, "call-1", NOW, 60)
    assert first.candidate is not None and first.candidate.trunk == "a"
    # The snapshot still shows "a" idle, but its only slot is taken: fail over to "b".
    second = claim(decision, table.by_name, reservations, "call-2", NOW, 60)
    assert second.candidate is not None and second.candidate.trunk == "b"
    assert second.refused == (("a", Refusal.CONCURRENCY),)
    third = claim(decision, table.by_name, reservations, "call-3", NOW, 60)
    assert third.candidate is None
    assert third.refused == (("a", Refusal.CONCURRENCY), ("b", Refusal.CALLER_ID_CAP))
    # After "a" rejected a call (503), the same attempt goes on to "b" only.
    reservations.release("a", "call-1")
    retry = claim(decision, table.by_name, reservations, "call-4", NOW, 60, tried={"a"})
    assert retry.refused == (("b", Refusal.CALLER_ID_CAP),)


def test_calendar_window_is_the_trunks_local_day() -> None:
    # 16:30 UTC is 00:30 the next day in Shanghai.
    now = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
    name, ttl = calendar_window(now, "Asia/Shanghai", NumberWindow.DAY)
    assert name == "2026-11-22"
    assert ttl == (23 * 3600 + 30 * 60) + 3600
    name, ttl = calendar_window(now, "UTC", NumberWindow.DAY)
    assert (name, ttl) == ("2026-11-21", 7 * 3600 + 30 * 60 + 3600)
    week, _ = calendar_window(now, "Asia/Shanghai", NumberWindow.WEEK)
    assert week == "2026-W47"
