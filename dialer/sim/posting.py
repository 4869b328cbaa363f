"""What the simulated switch sends over HTTP after a call (CDRs, recording uploads) goes out
from a thread of its own, in order, so the switch's loop never waits for a receiver."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import httpx

__all__ = ["PostingThread"]

_T = TypeVar("_T")


class PostingThread(Generic[_T]):
    """Runs ``send(item)`` for each queued item, in order, on one thread; ``client`` is the
    HTTP client ``send`` uses, closed with the thread."""

    def __init__(self, client: httpx.Client, send: Callable[[_T], None], name: str) -> None:
        self.client = client
        self._send = send
        self._queue: queue.Queue[_T | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: _T) -> None:
        """Queue one item (never blocks)."""
        self._queue.put(item)

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, wait_s: float = 10.0) -> None:
        """Send what is queued (within ``wait_s``), then stop."""
        self._queue.put(None)
        self._thread.join(timeout=wait_s)
        self.client.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._send(item)
