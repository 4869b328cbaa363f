"""Use cases of the nodes context: placing originates by load, reading each node's capacity,
drain, and what ``dialer nodes list`` shows. I/O only through `dialer.nodes.ports`.

Sessions in use are *the last reading plus the calls placed since*: every ``refresh_s`` one
process (whoever wins `NodeStore.claim_refresh`) asks the node's ``status`` and records the
sessions it reports with the node's placed count taken just before asking; until the next
reading each call placed adds ``sessions_per_call`` (its leg and the agent leg it may be
bridged to). A call placed between the mark and the reply is counted twice (until the next
reading), a call that ended since the reading still counts: both only err towards fewer calls.
Nothing has to release a slot when a call ends, so no slot leaks when a process dies; the
cost is a ``status`` per node per ``refresh_s`` across all processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialer.clock import Clock
from dialer.esl.ports import EslError
from dialer.nodes.capacity import (
    Limits,
    SwitchStatus,
    bucket_for,
    effective_limits,
    parse_fsctl,
    parse_status,
    refill,
)
from dialer.nodes.placement import NodesSnapshot, NodeView, choose
from dialer.nodes.ports import NodeRecord, NodeStore, Reading, StatusReader

__all__ = [
    "NodeConfig",
    "NodePlacer",
    "NodeRow",
    "drain",
    "set_switch_limits",
    "undrain",
]

log = logging.getLogger(__name__)

SESSIONS_PER_CALL = 2
"""Sessions one call may hold on its node: the customer's leg and the agent's it is bridged to."""


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """A node as configured: the operator's ``max_sessions`` and ``sps`` (None: the
    switch's own), the ``trunks`` bound to it (None: every trunk)."""

    name: str
    max_sessions: int | None = None
    sps: int | None = None
    trunks: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class NodeRow:
    """One line of ``dialer nodes list``."""

    name: str
    connected: bool
    draining: bool
    sessions: int | None
    limits: Limits
    trunks: frozenset[str] | None


def _reading_status(reading: Reading | None) -> SwitchStatus | None:
    if reading is None:
        return None
    return SwitchStatus(reading.sessions, 0, reading.sps, reading.max_sessions)


class NodePlacer:
    """Places originates on the node with the most headroom (`dialer.nodes.placement`),
    each one then taken under the node's shared limits (`NodeStore.take`)."""

    def __init__(
        self,
        store: NodeStore,
        reader: StatusReader | None,
        configs: Iterable[NodeConfig],
        clock: Clock,
        *,
        refresh_s: float = 1.0,
        sessions_per_call: int = SESSIONS_PER_CALL,
    ) -> None:
        self.store = store
        self._reader = reader
        self._configs = {c.name: c for c in configs}
        self._clock = clock
        self._refresh_s = refresh_s
        self._per_call = sessions_per_call

    def config(self, node: str) -> NodeConfig:
        return self._configs.get(node, NodeConfig(node))

    def names(self, connected: Iterable[str] = ()) -> list[str]:
        return sorted(set(self._configs) | set(connected))

    def limits(self, record: NodeRecord) -> Limits:
        """The node's limits: the lower of its reading and its configuration."""
        c = self.config(record.name)
        return effective_limits(_reading_status(record.reading), c.max_sessions, c.sps)

    def read(self, node: str, *, force: bool = False) -> bool:
        """Ask ``node``'s ``status`` and record it, when due (or ``force``); False when the
        switch could not be asked or its reply not read (or there is no reader)."""
        if self._reader is None:
            return False
        if not force and not self.store.claim_refresh(node, self._refresh_s):
            return True
        mark = self.store.mark(node)
        try:
            reply = self._reader.api(node, "status")
        except EslError as exc:
            log.warning("node %s: status not read: %s", node, exc)
            return False
        status = parse_status(reply)
        if status is None:
            log.warning("node %s: status reply not understood: %r", node, reply[:200])
            return False
        at_s = self._clock.now().timestamp()
        reading = Reading(status.sessions, status.sps, status.max_sessions, mark, at_s)
        self.store.record(node, reading)
        return True

    def snapshot(self, connected: Sequence[str]) -> NodesSnapshot:
        """Every node as now (a node not in ``connected`` is not placed on); a connected
        node whose reading is ``refresh_s`` old is read first (by one process: the one that
        wins `NodeStore.claim_refresh`)."""
        now_s = self._clock.now().timestamp()
        names = self.names(connected)
        records = self.store.records(names)
        stale = [n for n in connected if self._stale(records[n], now_s)]
        # a node never read is read by every process that needs it (not only the one that
        # won the refresh): until then it takes no call, and a cold start would refuse calls
        refreshed = [n for n in stale if self.read(n, force=records[n].reading is None)]
        if refreshed:
            records.update(self.store.records(refreshed))
            now_s = self._clock.now().timestamp()
        up = set(connected)
        views = tuple(self._view(records[n], n in up, now_s) for n in names)
        return NodesSnapshot(views, self._per_call)

    def _stale(self, record: NodeRecord, now_s: float) -> bool:
        reading = record.reading
        return reading is None or now_s - reading.at_s >= self._refresh_s

    def _view(self, record: NodeRecord, connected: bool, now_s: float) -> NodeView:
        limits = self.limits(record)
        tokens = None
        if limits.sps is not None:
            bucket = bucket_for(limits.sps)
            held = bucket.burst if record.tokens is None else record.tokens
            since_s = now_s if record.tokens_at_s is None else record.tokens_at_s
            tokens = refill(held, since_s, now_s, bucket)
        # a node is placed on once its capacity is known: another process may be reading it
        # now, and its limits unknown would let every call through
        known = record.reading is not None or self._reader is None
        return NodeView(
            name=record.name,
            connected=connected and known,
            draining=record.draining,
            sessions=record.in_use(self._per_call),
            max_sessions=limits.max_sessions,
            tokens=tokens,
            trunks=self.config(record.name).trunks,
            sps=limits.sps,
        )

    def place(self, snapshot: NodesSnapshot, trunk: str | None) -> tuple[str | None, NodesSnapshot]:
        """The node for one call over ``trunk`` and the snapshot counting it; (None, ...)
        when no node takes it now. A node the shared limits refuse (another process took its
        room since the snapshot) is not chosen again from this snapshot."""
        while (node := choose(snapshot, trunk)) is not None:
            view = snapshot.by_name(node)
            assert view is not None
            limits = Limits(view.max_sessions, view.sps)
            now_s = self._clock.now().timestamp()
            refused = self.store.take(node, limits, self._per_call, now_s)
            if refused is None:
                return node, snapshot.placed(node)
            log.debug("node %s refused a call: %s", node, refused.value)
            snapshot = snapshot.exhausted(node)
        return None, snapshot

    def rows(self, connected: Sequence[str]) -> list[NodeRow]:
        """Every node, its connected ones read now."""
        for node in connected:
            self.read(node, force=True)
        records = self.store.records(self.names(connected))
        up = set(connected)
        return [
            NodeRow(
                name=r.name,
                connected=r.name in up,
                draining=r.draining,
                sessions=r.reading.sessions if r.reading else None,
                limits=self.limits(r),
                trunks=self.config(r.name).trunks,
            )
            for r in records.values()
        ]


def drain(store: NodeStore, node: str) -> None:
    """No new call is placed on ``node``; its calls up go on to their end."""
    store.set_draining(node, True)


def undrain(store: NodeStore, node: str) -> None:
    store.set_draining(node, False)


def set_switch_limits(
    reader: StatusReader, node: str, *, sps: int | None = None, max_sessions: int | None = None
) -> tuple[int | None, int | None]:
    """Set the switch's own ``fsctl sps`` / ``fsctl max_sessions`` (until it restarts) and
    return the values it says are in force (``fsctl sps 0`` changes nothing on FreeSWITCH)."""
    got_sps = got_max = None
    if sps is not None:
        got_sps = parse_fsctl(reader.api(node, f"fsctl sps {sps}"))
    if max_sessions is not None:
        got_max = parse_fsctl(reader.api(node, f"fsctl max_sessions {max_sessions}"))
    return got_sps, got_max
