"""In-memory twins of the nodes seams, with the behaviour of the Redis adapter."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dialer.clock import Clock
from dialer.esl.ports import EslDisconnected
from dialer.nodes.capacity import Limits, bucket_for, refill
from dialer.nodes.ports import NodeRecord, NodeRefusal, Reading

__all__ = ["MemoryNodeStore", "ScriptedNodeApi", "ScriptedStatusReader"]


class MemoryNodeStore:
    """`dialer.nodes.ports.NodeStore` in memory; ``clock`` times `claim_refresh`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._records: dict[str, NodeRecord] = {}
        self._refresh: dict[str, float] = {}
        self._lock = threading.Lock()

    def _get(self, node: str) -> NodeRecord:
        return self._records.get(node, NodeRecord(node))

    def records(self, nodes: Sequence[str]) -> dict[str, NodeRecord]:
        with self._lock:
            return {n: self._get(n) for n in nodes}

    def mark(self, node: str) -> int:
        with self._lock:
            return self._get(node).placed

    def record(self, node: str, reading: Reading) -> None:
        with self._lock:
            kept = self._get(node)
            if kept.reading is None or kept.reading.at_s <= reading.at_s:
                self._records[node] = replace(kept, reading=reading)

    def take(
        self, node: str, limits: Limits, sessions_per_call: int, now_s: float
    ) -> NodeRefusal | None:
        with self._lock:
            kept = self._get(node)
            if kept.draining:
                return NodeRefusal.DRAINING
            most = limits.max_sessions
            if most is not None and kept.in_use(sessions_per_call) + sessions_per_call > most:
                return NodeRefusal.SESSIONS
            tokens, at_s = kept.tokens, kept.tokens_at_s
            if limits.sps is not None:
                bucket = bucket_for(limits.sps)
                from_s = now_s if kept.tokens_at_s is None else kept.tokens_at_s
                at_s = max(from_s, now_s)
                start = bucket.burst if kept.tokens is None else kept.tokens
                tokens = refill(start, from_s, at_s, bucket)
                if tokens < 1.0:
                    self._records[node] = replace(kept, tokens=tokens, tokens_at_s=at_s)
                    return NodeRefusal.SPS
                tokens -= 1.0
            self._records[node] = replace(
                kept, placed=kept.placed + 1, tokens=tokens, tokens_at_s=at_s
            )
            return None

    def set_draining(self, node: str, draining: bool) -> None:
        with self._lock:
            self._records[node] = replace(self._get(node), draining=draining)

    def claim_refresh(self, node: str, every_s: float) -> bool:
        with self._lock:
            now_s = self._clock.monotonic_s()
            if now_s < self._refresh.get(node, -1e18):
                return False
            self._refresh[node] = now_s + every_s
            return True


class ScriptedStatusReader:
    """`dialer.nodes.ports.StatusReader` answering from ``replies(node, command)``; a node
    in ``down`` raises `EslDisconnected`. ``asked`` lists every (node, command)."""

    def __init__(
        self,
        replies: Callable[[str, str], str] | Mapping[str, str],
        down: Sequence[str] = (),
    ) -> None:
        self._replies = replies
        self.down = set(down)
        self.asked: list[tuple[str, str]] = []

    def api(self, node: str, command: str) -> str:
        self.asked.append((node, command))
        if node in self.down:
            raise EslDisconnected(f"{node} is not connected")
        if callable(self._replies):
            return self._replies(node, command)
        return self._replies.get(node, "")


@dataclass
class ScriptedNodeApi:
    """Scripted `NodeApi`: the reply of each (node, command) as given; an unreachable node
    raises as the adapter does."""

    replies: dict[str, dict[str, str]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    def names(self) -> list[str]:
        return list(self.replies) + [n for n in self.down if n not in self.replies]

    def api(self, node: str, command: str) -> str:
        if node in self.down:
            raise EslDisconnected(f"{node}: no Event Socket (connection refused)")
        return self.replies[node].get(command, "-ERR no reply")
