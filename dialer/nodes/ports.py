"""Seams of the nodes context: the shared per-node state (`NodeStore`) and the switch's own
figures (`StatusReader`), with the plain data that crosses them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dialer.nodes.capacity import Limits

__all__ = ["NodeApi", "NodeRecord", "NodeRefusal", "NodeStore", "Reading", "StatusReader"]


class NodeRefusal(StrEnum):
    """Why `NodeStore.take` refused a call on a node."""

    DRAINING = "draining"
    SESSIONS = "sessions"
    SPS = "sps"


@dataclass(frozen=True, slots=True)
class Reading:
    """One ``status`` read of a node at ``at_s`` (epoch seconds): ``sessions`` up then, the
    switch's ``sps`` and ``max_sessions``; ``mark`` is the node's placed count taken just
    before the read was asked for."""

    sessions: int
    sps: int
    max_sessions: int
    mark: int
    at_s: float


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """What every process shares of a node: its last ``reading`` (None: never read), the
    calls ``placed`` on it ever (a counter), whether it is ``draining``, and its sps bucket
    (``tokens`` at ``tokens_at_s``; None: never taken from, so full)."""

    name: str
    reading: Reading | None = None
    placed: int = 0
    draining: bool = False
    tokens: float | None = None
    tokens_at_s: float | None = None

    def in_use(self, sessions_per_call: int) -> int:
        """Sessions in use as last read plus ``sessions_per_call`` for each call placed
        since the read was asked for (never read: every call placed counts)."""
        mark = self.reading.mark if self.reading else 0
        read = self.reading.sessions if self.reading else 0
        return read + sessions_per_call * max(self.placed - mark, 0)


class NodeStore(Protocol):
    """The per-node state every pacer and API process shares; `take` decides atomically."""

    def records(self, nodes: Sequence[str]) -> dict[str, NodeRecord]:
        """Every named node's record (an empty one for a node never seen)."""
        ...

    def mark(self, node: str) -> int:
        """The node's placed count now (to be given with the `Reading` asked for next)."""
        ...

    def record(self, node: str, reading: Reading) -> None:
        """Keep ``reading`` unless a newer one (a later ``at_s``) is already kept."""
        ...

    def take(
        self, node: str, limits: Limits, sessions_per_call: int, now_s: float
    ) -> NodeRefusal | None:
        """One call on ``node`` under ``limits`` at ``now_s``: None and the call counted
        (placed, one sps token spent), or why not (nothing changed but the bucket's refill).
        Refused when draining, when a call's sessions do not fit under ``max_sessions``
        (`NodeRecord.in_use`), or when the bucket (`capacity.bucket_for`) has no whole token."""
        ...

    def set_draining(self, node: str, draining: bool) -> None: ...

    def claim_refresh(self, node: str, every_s: float) -> bool:
        """True for the first caller within ``every_s``: that caller reads the node now."""
        ...


class StatusReader(Protocol):
    """Asks a node's switch; raises `dialer.esl.ports.EslError` when it cannot."""

    def api(self, node: str, command: str) -> str:
        """The reply of ``api <command>`` on ``node`` (``status``, ``fsctl sps 30``)."""
        ...


class NodeApi(StatusReader, Protocol):
    """`StatusReader` over the configured nodes, each command on a connection of its own
    (the API's and the CLI's one-shot questions)."""

    def names(self) -> list[str]:
        """The configured nodes (``DIALER_FREESWITCH_NODES``), in order."""
        ...
