"""The time and id seam: every component that reads the time or makes an id takes these.

`Clock` is the one shape of time in the project: ``now()`` is an aware UTC datetime (wall
time, for records and schedules), ``monotonic_s()`` is seconds that never go backwards (for
deadlines and intervals; its origin means nothing), ``sleep_s(s)`` waits ``s`` seconds *of
this clock* (a scaled simulator clock sleeps less wall time). `SystemClock` is the real one;
the switch simulator's `dialer.sim.clock.SimTime` is a scaled one; tests use the manual one
in ``tests/support/clock.py``.

`IdSource` makes the ids the dialer assigns (call UUIDs, job UUIDs): `UuidIds` is the real
one, random UUID4 strings in the 8-4-4-4-12 form FreeSWITCH expects.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "UUID_IDS", "Clock", "IdSource", "SystemClock", "UuidIds"]


class Clock(Protocol):
    """Wall time, monotonic time and sleeping, all on one time base."""

    def now(self) -> datetime:
        """Wall time, aware, in UTC."""
        ...

    def monotonic_s(self) -> float:
        """Seconds that never go backwards; only differences mean something."""
        ...

    def sleep_s(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock (no-op when not positive)."""
        ...


class IdSource(Protocol):
    """Unique ids for calls and jobs."""

    def new_id(self) -> str:
        """A fresh id, never returned before by this source."""
        ...


class SystemClock:
    """The machine's clocks: ``time.time`` as UTC, ``time.monotonic``, ``time.sleep``."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_s(self) -> float:
        return time.monotonic()

    def sleep_s(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class UuidIds:
    """Random UUID4 strings (``xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx``)."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


SYSTEM_CLOCK: Clock = SystemClock()
UUID_IDS: IdSource = UuidIds()
