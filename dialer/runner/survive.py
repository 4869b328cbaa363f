"""A pacing tick that lives through a backend outage (Redis, the database, a switch).

`SurvivingTick` wraps a campaign's tick for `dialer.runner.ticker.run_slice`: a tick that
fails on a backend error (``transient``) is logged and the slice goes on after a pause that
grows with each failure in a row (`dialer.retry.Backoff`); any other error goes up. A failed
tick may have claimed leads it never dialled, so before the next tick that gets through,
``recover`` gives such claims back. ``beat(status)`` hears each tick (the loop's heartbeat):
``ok``, or the error it is waiting out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dialer.clock import Clock
from dialer.retry import DEFAULT_BACKOFF, Backoff

log = logging.getLogger(__name__)


class SurvivingTick:
    """``tick()`` once per call; never raises a ``transient`` error."""

    def __init__(
        self,
        tick: Callable[[], bool],
        recover: Callable[[], None],
        *,
        what: str,
        transient: Callable[[BaseException], bool],
        clock: Clock,
        beat: Callable[[str], None] = lambda _status: None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._tick = tick
        self._recover = recover
        self._what = what
        self._transient = transient
        self._clock = clock
        self._beat = beat
        self._backoff = backoff
        self.failures_in_row = 0
        self.failed_ticks = 0

    def __call__(self) -> bool:
        try:
            if self.failures_in_row:
                self._recover()
            going_on = self._tick()
        except Exception as exc:
            if not self._transient(exc):
                raise
            self._failed(exc)
            return True
        if self.failures_in_row:
            log.info("%s: ticking again after %d failed ticks", self._what, self.failures_in_row)
            self.failures_in_row = 0
        self._beat("ok")
        return going_on

    def _failed(self, exc: Exception) -> None:
        self.failures_in_row += 1
        self.failed_ticks += 1
        status = f"retrying {self._what}: {type(exc).__name__}: {exc}"
        (log.warning if self.failures_in_row == 1 else log.debug)(
            "%s (tick failed %d times in a row)", status, self.failures_in_row
        )
        self._beat(status)
        self._clock.sleep_s(self._backoff.delay_s(self.failures_in_row))
