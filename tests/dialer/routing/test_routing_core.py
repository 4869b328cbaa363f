"""Rate decks, blind areas, smooth weighted round-robin, caller IDs, health."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.routing.callerid import pick_caller_id
from dialer.routing.distributor import swrr_pick
from dialer.routing.geo import BlindMatcher, region_of
from dialer.routing.health import (
    Availability,
    HealthPolicy,
    TrunkHealth,
    claim_trial,
    gateway_status_up,
    is_trunk_failure,
    on_call_result,
    on_gateway_status,
)
from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    UnknownRegionPolicy,
)
from dialer.routing.ratedeck import RateDeck, RateEntry, parse_rate_csv
from tests.support.transcripts import ESL_TRANSCRIPTS_DIR


def test_longest_prefix_wins() -> None:
    deck = RateDeck.of([RateEntry("86", Decimal("0.05")), RateEntry("86139", Decimal("0.03"))])
    assert deck.lookup("8613912345678") == RateEntry("86139", Decimal("0.03"))
    assert deck.lookup("8613812345678") == RateEntry("86", Decimal("0.05"))
    assert deck.lookup("14155550100") is None


@settings(max_examples=200, deadline=None)
@given(
    prefixes=st.lists(st.text("0123456789", min_size=1, max_size=6), max_size=30),
    number=st.text("0123456789", min_size=1, max_size=15),
)
def test_lookup_equals_brute_force(prefixes: list[str], number: str) -> None:
    deck = RateDeck.of(RateEntry(p, Decimal(len(p))) for p in prefixes)
    matches = [p for p in set(prefixes) if number.startswith(p)]
    expected = max(matches, key=len) if matches else None
    found = deck.lookup(number)
    assert (found.prefix if found else None) == expected


def test_rate_csv_reports_bad_rows_by_row() -> None:
    text = "prefix,rate,increment,connect_fee\n+86,0.05,6,0\n86139,abc\n,0.1\n8613,0.04\n"
    result = parse_rate_csv(text.splitlines())
    assert [r.prefix for r in result.rows] == ["86", "8613"]
    assert result.rows[0].billing_increment_s == 6
    assert result.errors == (
        "row 3: rate_per_min 'abc' is not a decimal number",
        "row 4: prefix '' is not 1-16 digits",
    )
    assert parse_rate_csv(["rate\n"]).errors == ("row 1: header 'rate' lacks column(s): prefix",)


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("86,NaN", "rate_per_min 'NaN' is not a decimal number"),
        ("86,Infinity", "rate_per_min 'Infinity' is not a decimal number"),
        ("86,-0.1", "rate_per_min -0.1 is negative"),
        ("86", "no rate_per_min"),
        ("86,0.1,0", "billing_increment_s '0' is not a whole number >= 1"),
        ("86,0.1,6,x", "connection_fee 'x' is not a decimal number"),
        ("86,0.1,6,0,extra", "5 cells, at most 4 without a header"),
        ("86\x00,0.1", "prefix '86\\x00' is not 1-16 digits"),
    ],
)
def test_rate_csv_without_header_names_each_bad_value(row: str, error: str) -> None:
    lines = ["1,0.01", row, ""]
    result = parse_rate_csv(lines, header=False)
    assert [r.prefix for r in result.rows] == ["1"]
    assert result.errors == (f"row 2: {error}",)


def test_rate_csv_reports_a_row_the_csv_module_cannot_read() -> None:
    result = parse_rate_csv(["1,0.01", "86\n,0.1", "2,0.02"], header=False)
    assert [r.prefix for r in result.rows] == ["1", "2"]
    assert len(result.errors) == 1 and result.errors[0].startswith("row 2: not CSV: ")


def test_rate_csv_keeps_an_identical_repeat_once() -> None:
    result = parse_rate_csv(["86,0.05", "86,0.05", "1,0.01,6,0.1"], header=False)
    assert [(r.prefix, r.billing_increment_s) for r in result.rows] == [("86", 60), ("1", 6)]
    assert result.errors == ()


SEED_BLIND = BlindMatcher.compile(BlindAreas(("北", "新", "西")))


@pytest.mark.parametrize(
    ("number", "blocked"),
    [
        ("+8613800138000", True),  # 北京市 / Beijing
        ("+861058000000", True),  # Beijing fixed line
        ("+8618999999999", True),  # 新疆乌鲁木齐市 / Urumchi, Xinjiang
        ("+8613908912345", True),  # 西藏拉萨市 / Lhasa, Tibet
        ("+8651912345678", False),  # 江苏省常州市
    ],
)
def test_seed_blind_areas_in_chinese(number: str, blocked: bool) -> None:
    digits = number[1:]
    assert (SEED_BLIND.blocks(digits, region_of(number)) is not None) is blocked


def test_blind_areas_in_english_and_prefixes() -> None:
    english = BlindMatcher.compile(BlindAreas(("beijing", "Xinjiang", "Tibet")))
    assert english.blocks("8618999999999", region_of("+8618999999999"))
    assert english.blocks("8613908912345", region_of("+8613908912345"))
    assert english.blocks("8651912345678", region_of("+8651912345678")) is None
    prefixes = BlindMatcher.compile(BlindAreas(prefixes=("86519",)))
    assert prefixes.blocks("8651912345678", region_of("+8651912345678"))


def test_unknown_region_is_a_per_trunk_policy() -> None:
    service = region_of("+864001234567")  # a national service number: China, no province
    assert not service.known
    allow = BlindMatcher.compile(BlindAreas(("北",), unknown_region=UnknownRegionPolicy.ALLOW))
    block = BlindMatcher.compile(BlindAreas(("北",), unknown_region=UnknownRegionPolicy.BLOCK))
    assert allow.blocks("864001234567", service) is None
    assert block.blocks("864001234567", service) == "region unknown"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=6))
def test_swrr_shares_match_weights_exactly_per_cycle(weights: list[int]) -> None:
    members = [(f"t{i}", w) for i, w in enumerate(weights)]
    total = sum(weights)
    scores: dict[str, int] = {}
    picks: Counter[str] = Counter()
    for _ in range(total * 3):
        chosen, scores = swrr_pick(members, scores)
        assert chosen is not None
        picks[chosen] += 1
    for name, weight in members:
        assert picks[name] == 3 * weight
    if total == 0:
        assert swrr_pick(members, {})[0] is None


def test_swrr_is_smooth() -> None:
    members = [("a", 5), ("b", 1), ("c", 1)]
    scores: dict[str, int] = {}
    order = []
    for _ in range(7):
        chosen, scores = swrr_pick(members, scores)
        order.append(chosen)
    assert order == ["a", "a", "b", "a", "c", "a", "a"]


def test_caller_id_modes_and_caps() -> None:
    region = region_of("+8651912345678")
    numbers = ("111", "222", "333")
    rr = CallerIdPolicy(numbers, CallerIdMode.ROUND_ROBIN)
    cursor, seen = 0, []
    for _ in range(4):
        choice = pick_caller_id(rr, "t", region, {}, cursor, 0)
        seen.append(choice.number)
        cursor = choice.cursor
    assert seen == ["111", "222", "333", "111"]
    least = CallerIdPolicy(numbers, CallerIdMode.LEAST_USED, daily_cap_per_number=5)
    used = {("t", "111"): 3, ("t", "222"): 1, ("t", "333"): 5}
    assert pick_caller_id(least, "t", region, used, 0, 0).number == "222"
    capped = {("t", n): 5 for n in numbers}
    assert pick_caller_id(least, "t", region, capped, 0, 0).number is None
    rnd = CallerIdPolicy(numbers, CallerIdMode.RANDOM)
    assert pick_caller_id(rnd, "t", region, {}, 0, 7).number == numbers[7 % 3]


def test_local_presence_prefers_the_callees_province() -> None:
    policy = CallerIdPolicy(("01058000000", "051988880000"), local_presence=True)
    jiangsu = region_of("+8651912345678")
    beijing = region_of("+8613800138000")
    assert pick_caller_id(policy, "t", jiangsu, {}, 0, 0).number == "051988880000"
    assert pick_caller_id(policy, "t", beijing, {}, 0, 0).number == "01058000000"


def test_active_window_wraps_midnight() -> None:
    night = ActiveWindow.parse("22:00-06:00")
    assert night.contains(23 * 60) and night.contains(60) and not night.contains(12 * 60)
    with pytest.raises(ValueError):
        ActiveWindow.parse("9-5")


def test_health_suspends_after_consecutive_failures_then_probes() -> None:
    policy = HealthPolicy(failure_threshold=3, cooldown_s=30)
    h = TrunkHealth()
    for t in (1.0, 2.0):
        h = on_call_result(h, True, t, policy)
        assert h.availability(t) is Availability.UP
    h = on_call_result(h, True, 3.0, policy, "old")
    assert h.availability(10.0) is Availability.DOWN
    assert h.availability(33.0) is Availability.PROBE
    assert on_call_result(h, False, 33.5, policy, "old") == h  # placed before: no say
    trial = claim_trial(h, "trial", 33.5, policy)
    assert trial is not None and trial.availability(34.0) is Availability.DOWN
    assert claim_trial(trial, "second", 34.0, policy) is None
    failed_probe = on_call_result(trial, True, 34.0, policy, "trial")
    assert failed_probe.availability(40.0) is Availability.DOWN
    assert failed_probe.suspended_until_s == 64.0
    recovered = on_call_result(trial, False, 34.0, policy, "trial")
    assert recovered == TrunkHealth()
    assert on_gateway_status(recovered, False).availability(35.0) is Availability.DOWN


def test_gateway_status_from_sofia_output() -> None:
    text = (ESL_TRANSCRIPTS_DIR / "d2_gateway_down_ping.esl.txt").read_text(errors="replace")
    assert gateway_status_up(text) is False
    up = (ESL_TRANSCRIPTS_DIR / "f_api_outputs.esl.txt").read_text(errors="replace")
    assert gateway_status_up(up) is True
    assert gateway_status_up("Invalid Gateway!") is None


def test_trunk_failures_versus_callee_outcomes() -> None:
    assert is_trunk_failure("GATEWAY_DOWN")
    assert is_trunk_failure("NORMAL_TEMPORARY_FAILURE", 503)
    for cause in ("USER_BUSY", "NO_ANSWER", "CALL_REJECTED", "UNALLOCATED_NUMBER"):
        assert not is_trunk_failure(cause)
    assert not is_trunk_failure("DESTINATION_OUT_OF_ORDER")


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(["8613", "8615", "8618", "8617", "86199", "8610", "86519", "86991"]),
    tail=st.text("0123456789", min_size=9, max_size=9),
)
def test_cached_region_equals_the_geocoders_answer(head: str, tail: str) -> None:
    import phonenumbers
    from hypothesis import assume
    from phonenumbers import geocoder

    length = 12 if head == "8610" else 13
    digits = (head + tail)[:length]
    parsed = phonenumbers.parse("+" + digits)
    assume(phonenumbers.is_valid_number(parsed))
    region = region_of("+" + digits)
    assert region.zh == geocoder.description_for_number(parsed, "zh")
    assert region.en == geocoder.description_for_number(parsed, "en")
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert region.national(digits) == "".join(ch for ch in formatted if ch.isdigit())
