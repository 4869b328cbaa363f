from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.runner.ticker import next_deadline, run_slice
from tests.support.clock import FakeClock


@given(
    start=st.floats(0, 1e6),
    period=st.floats(0.01, 100),
    offset=st.floats(0, 1e4),
)
def test_next_deadline_is_on_the_grid_and_ahead(start: float, period: float, offset: float) -> None:
    now = start + offset
    deadline = next_deadline(start, period, now)
    assert deadline > now
    assert deadline - period <= now + 1e-6 * max(1.0, now)
    k = (deadline - start) / period
    assert abs(k - round(k)) < 1e-6 * max(1.0, k)


def test_ticks_keep_the_grid_without_drift() -> None:
    clock = FakeClock()
    times: list[float] = []

    def tick() -> bool:
        times.append(clock.monotonic_s())
        clock.advance(0.3)  # work inside the tick must not push later deadlines
        return True

    report = run_slice(tick, clock, period_s=1.0, slice_s=10.0)
    assert report.ticks == 10 and report.skipped_deadlines == 0
    assert times == [1000.0 + k for k in range(10)]
    assert all(s > 0 for s in clock.slept_s)


def test_a_stall_skips_missed_deadlines_instead_of_bursting() -> None:
    clock = FakeClock()
    times: list[float] = []

    def tick() -> bool:
        times.append(clock.monotonic_s())
        clock.advance(3.5 if len(times) == 2 else 0.1)
        return True

    report = run_slice(tick, clock, period_s=1.0, slice_s=8.0)
    assert times == [1000.0, 1001.0, 1005.0, 1006.0, 1007.0]
    assert report.skipped_deadlines == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0


def test_tick_returning_false_ends_the_slice() -> None:
    clock = FakeClock()
    report = run_slice(lambda: False, clock, period_s=1.0, slice_s=10.0)
    assert report.ticks == 1 and report.stopped_early


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="period_s"):
        next_deadline(0.0, 0.0, 1.0)
