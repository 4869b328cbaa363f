"""Placement of one originate on a node (pure, deterministic given the snapshot).

A node is eligible when it is connected, not draining, has a whole sps token left, a call's
sessions fit under its ``max_sessions``, and (when trunks are bound to it) carries the call's
trunk. Among the eligible, the one with the most headroom wins: the largest free share of its
sessions (``1 - in_use / max_sessions``, 1 for a node without a known bound), then the most
free sessions, then the fewest in use, then the name. Equal shares make nodes of different
sizes fill in proportion to their size. A snapshot counts its own placements
(`NodesSnapshot.placed`), so the leads of one tick spread instead of all going to the node
that had the most headroom at its start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

__all__ = ["NodeView", "NodesSnapshot", "choose", "room"]


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node as placement sees it: ``sessions`` in use (estimated), ``max_sessions``
    (None: not bounded), ``tokens`` of its sps bucket left (None: no rate bound), ``trunks``
    bound to it (None: every trunk), the ``sps`` its bucket is made for."""

    name: str
    connected: bool = True
    draining: bool = False
    sessions: int = 0
    max_sessions: int | None = None
    tokens: float | None = None
    trunks: frozenset[str] | None = None
    sps: int | None = None

    def takes(self, trunk: str | None, sessions_per_call: int) -> bool:
        if not self.connected or self.draining:
            return False
        if self.tokens is not None and self.tokens < 1.0:
            return False
        if self.max_sessions is not None and self.sessions + sessions_per_call > self.max_sessions:
            return False
        return trunk is None or self.trunks is None or trunk in self.trunks

    def headroom(self) -> tuple[float, float, int, str]:
        """Sort key, smallest first: the most headroom sorts first."""
        if self.max_sessions is None or self.max_sessions <= 0:
            share, free = 1.0, math.inf
        else:
            free = float(self.max_sessions - self.sessions)
            share = free / self.max_sessions
        return (-share, -free, self.sessions, self.name)


@dataclass(frozen=True, slots=True)
class NodesSnapshot:
    """Every node as read at the start of a tick (or an API call); ``sessions_per_call`` is
    what one call may hold on a node (its leg and the agent leg it is bridged to)."""

    nodes: tuple[NodeView, ...] = ()
    sessions_per_call: int = 2

    def placed(self, name: str) -> NodesSnapshot:
        """This snapshot after one more call on ``name``."""
        return self._with(name, lambda v: replace(
            v,
            sessions=v.sessions + self.sessions_per_call,
            tokens=None if v.tokens is None else v.tokens - 1.0,
        ))  # fmt: skip

    def exhausted(self, name: str) -> NodesSnapshot:
        """This snapshot once the shared limits refused ``name``: not chosen again."""
        return self._with(name, lambda v: replace(v, tokens=0.0))

    def _with(self, name: str, change: Callable[[NodeView], NodeView]) -> NodesSnapshot:
        nodes = tuple(change(v) if v.name == name else v for v in self.nodes)
        return replace(self, nodes=nodes)

    def by_name(self, name: str) -> NodeView | None:
        return next((v for v in self.nodes if v.name == name), None)


def choose(snapshot: NodesSnapshot, trunk: str | None) -> str | None:
    """The node with the most headroom that takes a call over ``trunk``; None when none."""
    eligible = [v for v in snapshot.nodes if v.takes(trunk, snapshot.sessions_per_call)]
    if not eligible:
        return None
    return min(eligible, key=NodeView.headroom).name


def room(snapshot: NodesSnapshot) -> int | None:
    """How many calls the nodes of ``snapshot`` take now, whatever their trunk (an upper
    bound when trunks are bound to nodes); None: no bound (an eligible node has neither a
    sessions nor an sps bound)."""
    total = 0
    for v in snapshot.nodes:
        if not v.takes(None, snapshot.sessions_per_call):
            continue
        bounds = []
        if v.tokens is not None:
            bounds.append(math.floor(v.tokens))
        if v.max_sessions is not None:
            bounds.append((v.max_sessions - v.sessions) // max(snapshot.sessions_per_call, 1))
        if not bounds:
            return None
        total += min(bounds)
    return total
