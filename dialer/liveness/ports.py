"""The heartbeat of one loop and where heartbeats are kept.

A heartbeat says: loop ``loop`` of process kind ``process`` (``listener``, ``worker``,
``beat``, ``api``) in process ``pid`` of ``host`` made progress at ``beat_s`` (epoch
seconds) and is dead if it has not beaten again ``stale_after_s`` later. ``status`` is
``ok``, a ``retrying ...`` line (alive, waiting for a backend) or a ``failed: ...`` line
(the loop ended and could not go on). A loop that stops cleanly removes its heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PROCESS_KINDS = ("listener", "worker", "beat", "api")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    process: str
    loop: str
    host: str
    pid: int
    beat_s: float
    stale_after_s: float
    status: str = "ok"


class HeartbeatStore(Protocol):
    """Heartbeats by (process kind, loop): the last one written wins."""

    def put(self, beat: Heartbeat) -> None: ...

    def remove(self, process: str, loop: str) -> None: ...

    def of(self, process: str) -> list[Heartbeat]:
        """The heartbeats of the loops of ``process`` (a kind), in loop order."""
        ...
