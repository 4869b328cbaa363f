"""Simulated clock on top of an asyncio loop, real time or scaled by a factor k.

Simulated time ``now_s() = start_s + (loop.time() - loop_start) * k``. A timer due at
simulated time ``t`` fires at loop time ``loop_start + (t - start_s) / k``.

Invariants: timers fire in order of (due time, scheduling order), so a run with the same
inputs fires the same callbacks in the same order; a callback is never run re-entrantly from
`SimClock.call_later`; ``lag_s`` statistics record how late (in wall seconds) each timer ran.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["LagStats", "SimClock", "SimTime", "Timer"]


@dataclass(order=True)
class Timer:
    """A scheduled callback (`dialer.sim.ports.TimerHandle`)."""

    due_s: float
    seq: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


@dataclass
class LagStats:
    """How far behind schedule timers ran, in wall seconds."""

    count: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    samples: list[float] = field(default_factory=list)

    def add(self, lag_s: float) -> None:
        """Record one timer's lateness."""
        self.count += 1
        self.total_s += lag_s
        self.max_s = max(self.max_s, lag_s)
        if len(self.samples) < 200_000:
            self.samples.append(lag_s)


@dataclass(frozen=True, slots=True)
class SimTime:
    """Simulated time read from ``time.monotonic`` (the clock asyncio's loop keeps), so any
    thread can read it without touching the loop: a `dialer.clock.Clock` running ``speed``
    times faster than wall time, for a dialer driving the simulator.

    ``now()`` / ``now_s()`` are the simulated wall time (aware UTC / epoch seconds),
    ``monotonic_s()`` the simulated seconds since the loop started, and ``sleep_s`` waits
    simulated seconds (``seconds / speed`` of wall time)."""

    start_s: float
    loop_start_s: float
    speed: float

    def now_s(self) -> float:
        return self.start_s + self.monotonic_s()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_s(), UTC)

    def monotonic_s(self) -> float:
        return (time.monotonic() - self.loop_start_s) * self.speed

    def sleep_s(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


class SimClock:
    """Deterministic timer wheel driven by the running asyncio loop."""

    def __init__(self, speed: float = 1.0, start_s: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._fixed_start = start_s is not None
        self._start_s = time.time() if start_s is None else start_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_start = 0.0
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None
        self.lag = LagStats()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the loop that will run the timers; simulated time starts now."""
        self._loop = loop
        self._loop_start = loop.time()
        if not self._fixed_start:
            # without a fixed start, simulated time is wall time from the moment it runs
            self._start_s = time.time()
        self._arm()

    def now_s(self) -> float:
        """Current simulated time (epoch seconds)."""
        if self._loop is None:
            return self._start_s
        return self._start_s + (self._loop.time() - self._loop_start) * self.speed

    def follower(self) -> SimTime:
        """A reader of this clock for other threads and processes' components (a dialer
        driving the simulator keeps its own time on the switch's clock). Call after `attach`."""
        if self._loop is None:
            raise RuntimeError("the clock is not attached to a running loop yet")
        return SimTime(self._start_s, self._loop_start, self.speed)

    def now_us(self) -> int:
        """Current simulated time in whole microseconds."""
        return int(self.now_s() * 1_000_000)

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        """Schedule ``fn`` after ``delay_s`` simulated seconds."""
        timer = Timer(self.now_s() + max(0.0, delay_s), next(self._seq), fn)
        heapq.heappush(self._heap, timer)
        if self._heap[0] is timer:
            self._arm()
        return timer

    def cancel(self, handle: object) -> None:
        """Cancel a timer returned by `call_later` (no-op if it already ran)."""
        if isinstance(handle, Timer):
            handle.cancelled = True

    def _loop_time_for(self, due_s: float) -> float:
        return self._loop_start + (due_s - self._start_s) / self.speed

    def _arm(self) -> None:
        if self._loop is None:
            return
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if self._heap:
            self._wakeup = self._loop.call_at(self._loop_time_for(self._heap[0].due_s), self._run)

    def _run(self) -> None:
        assert self._loop is not None
        self._wakeup = None
        now_loop = self._loop.time()
        while self._heap:
            head = self._heap[0]
            if head.cancelled:
                heapq.heappop(self._heap)
                continue
            due_loop = self._loop_time_for(head.due_s)
            if due_loop > now_loop:
                break
            heapq.heappop(self._heap)
            self.lag.add(max(0.0, now_loop - due_loop))
            head.fn()
        self._arm()

    def pending(self) -> int:
        """Number of timers not yet run (cancelled ones may be counted)."""
        return len(self._heap)
