"""A route decision and trunk health in words (``dialer route``), and the geocoder's guard."""

from __future__ import annotations

import pytest

from dialer.routing.explain import HealthView, describe_health
from dialer.routing.geo import UNKNOWN_REGION, BlindMatcher, region_of
from dialer.routing.health import HealthPolicy, TrunkHealth, on_call_result
from dialer.routing.model import BlindAreas


def _after_failures(n: int, at_s: float) -> TrunkHealth:
    health = TrunkHealth()
    for _ in range(n):
        health = on_call_result(health, True, at_s, HealthPolicy(5, 30.0))
    return health


def test_a_suspended_trunk_says_until_when_and_why() -> None:
    suspended = _after_failures(5, 1000.0)
    assert describe_health(suspended, 1010.0) == HealthView(
        "suspended", 1030.0, "5 trunk failures in a row"
    )
    assert describe_health(suspended, 1030.0).state == "trial call due"
    assert describe_health(_after_failures(1, 1000.0), 1000.0) == HealthView(
        "up", None, "1 trunk failure in a row"
    )
    down = TrunkHealth(gateway_up=False)
    assert describe_health(down, 0.0).state == "gateway down"


@pytest.mark.parametrize("text", ["+abc", "+", "", "+86 10", "+８６１３８"])
def test_region_of_anything_but_digits_is_unknown(text: str) -> None:
    assert region_of(text) is UNKNOWN_REGION


def test_a_blind_prefix_is_named() -> None:
    matcher = BlindMatcher.compile(BlindAreas(prefixes=("86", "86139", "8613")))
    assert matcher.blocks("8613912345678", region_of("+8613912345678")) == (
        "number prefix 86139 in blind area"
    )
