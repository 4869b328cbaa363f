"""In-memory heartbeats for tests."""

from __future__ import annotations

import threading

from dialer.liveness.ports import Heartbeat


class MemoryHeartbeats:
    """`dialer.liveness.ports.HeartbeatStore` in a dict."""

    def __init__(self) -> None:
        self._beats: dict[tuple[str, str], Heartbeat] = {}
        self._lock = threading.Lock()

    def put(self, beat: Heartbeat) -> None:
        with self._lock:
            self._beats[(beat.process, beat.loop)] = beat

    def remove(self, process: str, loop: str) -> None:
        with self._lock:
            self._beats.pop((process, loop), None)

    def of(self, process: str) -> list[Heartbeat]:
        with self._lock:
            return sorted(
                (b for b in self._beats.values() if b.process == process), key=lambda b: b.loop
            )
