"""Ticks on fixed deadlines: no drift, and no burst of catch-up ticks after a stall.

Deadlines are ``start_s + k * period_s``.  A tick that overran skips the deadlines it
missed and waits for the next one still ahead, so the rate never exceeds one per period.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dialer.clock import Clock


def next_deadline(start_s: float, period_s: float, now_s: float) -> float:
    """The first deadline strictly after ``now_s``."""
    if period_s <= 0:
        raise ValueError(f"period_s must be positive, not {period_s}")
    if now_s < start_s:
        return start_s
    k = math.floor((now_s - start_s) / period_s) + 1
    deadline = start_s + k * period_s
    # Rounding can land the product on ``now_s`` itself; the next grid point is then due.
    return deadline if deadline > now_s else start_s + (k + 1) * period_s


@dataclass(frozen=True, slots=True)
class SliceReport:
    ticks: int
    skipped_deadlines: int
    stopped_early: bool


def run_slice(
    tick: Callable[[], bool],
    clock: Clock,
    period_s: float,
    slice_s: float,
) -> SliceReport:
    """Call ``tick`` on each deadline for ``slice_s`` seconds; ``tick`` returning False stops.

    Deadlines are on ``clock``'s monotonic time and waited with its ``sleep_s``. The first
    tick runs at once; the slice ends before a deadline that falls past its end.
    """
    now_s = clock.monotonic_s
    start = now_s()
    end = start + slice_s
    deadline = start
    ticks = skipped = 0
    while deadline < end:
        wait = deadline - now_s()
        if wait > 0:
            clock.sleep_s(wait)
        ticks += 1
        if not tick():
            return SliceReport(ticks, skipped, True)
        following = next_deadline(start, period_s, now_s())
        skipped += max(0, round((following - deadline) / period_s) - 1)
        deadline = following
    return SliceReport(ticks, skipped, False)
