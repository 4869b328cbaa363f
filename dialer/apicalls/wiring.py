"""Wiring of the API calls context: `CallDeps` on the database, Redis (trunk lines and
health, the listener's agents) and the switches' Event Socket.

The API process opens its originate connections on its first call (`LazySwitch`), so an API
that places no call (tests of other routes, a switch still starting) never waits for one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.apicalls.adapters import SqlApiCallStore, SqlDirectory
from dialer.apicalls.hold_adapters import EslAgentHolds
from dialer.apicalls.ports import AgentHolds, ApiCallStore
from dialer.apicalls.service import CallDeps
from dialer.calls.agent_first import AgentFirstEnd
from dialer.clock import Clock, IdSource
from dialer.config import FsNode, Settings
from dialer.esl.ports import EslClientKind, EslConnection
from dialer.listener.wiring import live_state
from dialer.nodes.wiring import node_placer
from dialer.recordings.wiring import switch_recording
from dialer.routing.lines import LineRebuilder
from dialer.routing.ports import CapacityReservations
from dialer.routing.wiring import TrunkState, redis_trunk_state
from dialer.runner.adapters import EslSwitch, LiveStateView
from dialer.runner.ports import Originator
from dialer.runner.wiring import esl_switch

__all__ = ["LazySwitch", "NotifyingCallSink", "api_call_sink", "call_deps"]

log = logging.getLogger(__name__)
SLOT_LEASE_S = 3_600.0
"""A line's lease, as the pacer's (`dialer.runner.tick.TickConfig.slot_lease_s`)."""


class NotifyingCallSink:
    """The listener's `dialer.listener.ports.ApiCallSink`: records each end, then hands the
    ended call to ``notify(call_uuid)`` (its webhook), once; a failing notify is logged and
    never undoes the record."""

    def __init__(self, store: ApiCallStore, notify: Callable[[str], None] | None) -> None:
        self._store = store
        self._notify = notify

    def record_end(self, node: str, end: AgentFirstEnd) -> None:
        ended = self._store.record_end(node, end)
        if ended is None or self._notify is None:
            return
        try:
            self._notify(ended.call_uuid)
        except Exception:
            log.exception("webhook of API call %s not queued", ended.call_uuid)


def api_call_sink(
    sessions: sessionmaker[Session],
    reservations: CapacityReservations,
    notify: Callable[[str], None] | None = None,
) -> NotifyingCallSink:
    """Where a listener records API call ends, on the database."""
    return NotifyingCallSink(SqlApiCallStore(sessions, reservations), notify)


class LazySwitch:
    """An `Originator` whose connections (one per node) are opened on first use."""

    def __init__(
        self, nodes: Sequence[FsNode], connect_wait_s: float, client_kind: EslClientKind
    ) -> None:
        self._nodes = list(nodes)
        self._wait_s = connect_wait_s
        self._kind: EslClientKind = client_kind
        self._switch: EslSwitch | None = None
        self._lock = threading.Lock()

    def _open(self) -> EslSwitch:
        with self._lock:
            if self._switch is None:
                self._switch = esl_switch(self._nodes, self._wait_s, self._kind)
            return self._switch

    def nodes(self) -> list[str]:
        return self._open().nodes()

    def originate(self, node: str, args: str) -> bool:
        return self._open().originate(node, args)

    @property
    def connections(self) -> Mapping[str, EslConnection]:
        """Every node's connection, opened when first read."""
        return _OpenedOnRead(self)

    def opened(self) -> Mapping[str, EslConnection]:
        return self._open().connections

    def close(self) -> None:
        with self._lock:
            if self._switch is not None:
                self._switch.close()
                self._switch = None


class _OpenedOnRead(Mapping[str, EslConnection]):
    def __init__(self, switch: LazySwitch) -> None:
        self._switch = switch

    def __getitem__(self, node: str) -> EslConnection:
        return self._switch.opened()[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._switch.opened())

    def __len__(self) -> int:
        return len(self._switch.opened())


def call_deps(
    settings: Settings,
    sessions: sessionmaker[Session],
    client: redis.Redis[Any],
    clock: Clock,
    ids: IdSource,
    *,
    namespace: str,
    switch: Originator | None = None,
    trunks: TrunkState | None = None,
    holds: AgentHolds | None = None,
) -> CallDeps:
    """API calls over the deployment's database, Redis ``namespace`` and switches (or
    ``switch``); agents on API calls held from queue calls on every switch (or by ``holds``;
    with a ``switch`` given and no ``holds``, not held)."""
    shared = trunks if trunks is not None else redis_trunk_state(client, namespace)
    nodes = settings.freeswitch_nodes
    lines = None
    connections: Mapping[str, EslConnection] | None = None
    if switch is None:
        lazy = LazySwitch(nodes, 5.0, settings.esl_client)
        holder = f"api:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        lines = LineRebuilder(shared.reservations, lazy.connections, holder, SLOT_LEASE_S)
        switch = lazy
        holds = holds if holds is not None else EslAgentHolds(lazy.connections)
        connections = lazy.connections
    elif isinstance(switch, EslSwitch):
        connections = switch.connections
    return CallDeps(
        store=SqlApiCallStore(sessions, shared.reservations),
        directory=SqlDirectory(sessions),
        switch=switch,
        reservations=shared.reservations,
        clock=clock,
        ids=ids,
        health=shared.health,
        live=LiveStateView(live_state(client, namespace), [n.name for n in nodes]),
        slot_lease_s=SLOT_LEASE_S,
        lines=lines,
        default_region=settings.default_region,
        holds=holds,
        placer=node_placer(nodes, client, connections, clock, namespace=namespace),
        recording=switch_recording(settings),
    )
