"""Bounded waits of the tests: poll a condition until it holds or the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    """True as soon as ``condition()`` holds, polled every ``poll_s``; after ``timeout_s``
    its last answer (so a condition that became true at the deadline still counts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()
