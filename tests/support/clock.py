"""The one manual clock and id source of the test suite.

`FakeClock` implements `dialer.clock.Clock`: time moves only when a test calls `advance` or
when code under test calls `sleep_s` (which advances instead of waiting), so a test that
drives a loop through it runs in no wall time and always the same way.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class FakeClock:
    """Manual time: starts at ``start`` (aware UTC), moves by `advance` and `sleep_s`."""

    def __init__(self, start: datetime = T0) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._mono_s = 1_000.0
        self.slept_s: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic_s(self) -> float:
        return self._mono_s

    def sleep_s(self, seconds: float) -> None:
        self.slept_s.append(seconds)
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move both wall and monotonic time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += timedelta(seconds=seconds)
        self._mono_s += seconds

    def set(self, when: datetime) -> None:
        """Jump wall time (and monotonic time by the same amount) to ``when``, not back."""
        self.advance((when - self._now).total_seconds())


class SequentialIds:
    """Ids ``00000000-0000-4000-8000-000000000001``, ``...02``, ... in call order."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def new_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._next):012d}"
