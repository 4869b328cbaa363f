"""A call's cost from its trunk's rate deck, billed in the deck's increments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.cdr.billing import billed_seconds, charge
from dialer.routing.ratedeck import RateEntry

SIX = RateEntry("86", Decimal("0.06"), 6)  # 0.06 a minute, 6/6
MINUTE = RateEntry("86", Decimal("0.06"), 60, Decimal("0.01"))  # 60/60 plus a connection fee


@pytest.mark.parametrize(
    ("billsec", "increment_s", "billed"),
    [(0, 6, 0), (1, 6, 6), (6, 6, 6), (7, 6, 12), (20, 6, 24), (1, 60, 60), (60, 60, 60),
     (61, 60, 120), (20, 1, 20)],
)  # fmt: skip
def test_billed_seconds_round_up_to_the_increment(
    billsec: int, increment_s: int, billed: int
) -> None:
    assert billed_seconds(billsec, increment_s) == billed


def test_six_six_and_sixty_sixty() -> None:
    assert charge(20, True, SIX).cost == Decimal("0.024000")  # 24 s at 0.06/min
    sixty = charge(20, True, MINUTE)
    assert (sixty.billed_s, sixty.cost) == (60, Decimal("0.070000"))  # 0.06 + fee 0.01
    assert charge(61, True, MINUTE).cost == Decimal("0.130000")


def test_unanswered_costs_nothing_and_an_unpriced_number_has_no_cost() -> None:
    none = charge(0, False, MINUTE)
    assert (none.billed_s, none.cost) == (0, Decimal(0))
    unpriced = charge(20, True, None)
    assert (unpriced.billsec, unpriced.cost) == (20, None)


@given(st.integers(0, 100_000), st.sampled_from([1, 6, 30, 60]))
def test_billed_is_the_least_step_multiple_covering_billsec(billsec: int, step: int) -> None:
    billed = billed_seconds(billsec, step)
    assert billed % step == 0 and billsec <= billed < billsec + step
