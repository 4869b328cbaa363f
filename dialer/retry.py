"""Retrying the work of a long-running loop while a backend (Redis, the database, a switch)
is away: the same work again after a growing pause, never skipped, never given up on unless
the loop is stopping.

`Backoff` is the pause rule (pure); `retry_transient` the loop around one piece of work. The
caller says which errors are a backend's (``transient``, e.g.
`dialer.backend_errors.is_backend_error`): any other error goes straight up, since doing the
same work again would fail the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dialer.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses that double from ``initial_s`` up to ``max_s`` (seconds)."""

    initial_s: float = 0.2
    max_s: float = 5.0

    def delay_s(self, failures: int) -> float:
        """The pause after the ``failures``-th failure in a row (1 for the first)."""
        if failures <= 0:
            return 0.0
        return float(min(self.max_s, self.initial_s * 2 ** min(failures - 1, 32)))


DEFAULT_BACKOFF = Backoff()


class Stopping(Exception):
    """The loop is stopping while its work was still failing; the work was not done."""


def retry_transient(
    work: Callable[[], T],
    *,
    what: str,
    transient: Callable[[BaseException], bool],
    clock: Clock,
    log: logging.Logger,
    backoff: Backoff = DEFAULT_BACKOFF,
    should_stop: Callable[[], bool] = lambda: False,
    on_retry: Callable[[str], None] = lambda _status: None,
) -> T:
    """``work()``'s result, calling it again after each transient failure (logged: the first
    as a warning, the others at debug level, the recovery as info). ``on_retry(status)``
    hears each failure (a loop's heartbeat: it is alive, waiting on a backend). Raises
    `Stopping` when ``should_stop()`` turns true between two tries."""
    failures = 0
    while True:
        try:
            result = work()
        except Exception as exc:
            if not transient(exc):
                raise
            failures += 1
            status = f"retrying {what}: {type(exc).__name__}: {exc}"
            (log.warning if failures == 1 else log.debug)("%s (try %d)", status, failures)
            on_retry(status)
            if should_stop():
                raise Stopping(what) from exc
            clock.sleep_s(backoff.delay_s(failures))
            if should_stop():
                raise Stopping(what) from exc
            continue
        if failures:
            log.info("%s: done after %d failed tries", what, failures)
        return result
