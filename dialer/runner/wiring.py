"""Wiring of the pacing tick: `TickDeps` on the real adapters, or on the in-memory twins.

`tick_deps` is what a pacing process ticks with: the campaign rows in the database, the
routing table as the database has it now, the leases in Redis, and the listeners' live state
and the trunk state in Redis under one key namespace (`dialer.routing.wiring`); a tick on an
`EslSwitch` also rebuilds, over the same connections, the lines in use of trunks whose
reservations Redis lost (`dialer.routing.lines`). `memory_tick_deps` is the same shape on the
in-memory twins, for tests and benchmarks that need neither a database nor Redis.
Calls are placed on nodes by load (`dialer.nodes.wiring.node_placer`, each node's
``status`` read over the same connections). `esl_switch` opens a pacing process's originate
connections, one per node; `esl_switch_probe` asks the nodes what they have loaded (the
preflight of a campaign), over a short connection per node.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock, IdSource
from dialer.config import FsNode, Settings
from dialer.esl.ports import (
    EslClientKind,
    EslConnection,
    EslDisconnected,
    ManagedEslConnection,
    Subscription,
)
from dialer.esl.wiring import build_esl_client
from dialer.listener.wiring import live_state
from dialer.nodes.wiring import memory_node_placer, node_placer
from dialer.recordings.wiring import switch_recording
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.lines import LineRebuilder
from dialer.routing.service import load_routing_table
from dialer.routing.table import RoutingTable
from dialer.routing.wiring import DEFAULT_NAMESPACE, TrunkState, redis_trunk_state
from dialer.runner.adapters import (
    EslSwitch,
    EslSwitchProbe,
    LiveStateView,
    RedisLeaseStore,
    RedisPacerStates,
    SqlCampaignStore,
)
from dialer.runner.fakes import (
    MemoryCampaignStore,
    MemoryLeaseStore,
    MemoryLiveView,
    MemoryPacerStates,
    MemorySwitch,
)
from dialer.runner.ports import CampaignStore, LeaseStore, LiveView, Originator, PacerStateStore
from dialer.runner.tick import TickDeps

__all__ = ["esl_switch", "esl_switch_probe", "memory_tick_deps", "tick_deps"]


def tick_deps(
    settings: Settings,
    client: redis.Redis[Any],
    sessions: sessionmaker[Session],
    switch: Originator,
    clock: Clock,
    ids: IdSource,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    trunks: TrunkState | None = None,
) -> TickDeps:
    """The real dependencies of a tick: agents and calls of ``settings``' nodes, ``trunks``
    (the namespace's trunk state with health, unless given), the routing table read now."""
    shared = trunks if trunks is not None else redis_trunk_state(client, namespace)
    nodes = [node.name for node in settings.freeswitch_nodes]
    with sessions() as session:
        table = load_routing_table(session)
    deps = _assemble(
        SqlCampaignStore(sessions),
        LiveStateView(live_state(client, namespace), nodes),
        switch,
        RedisLeaseStore(client),
        shared,
        table,
        clock,
        ids,
        RedisPacerStates(client),
    )
    connections = switch.connections if isinstance(switch, EslSwitch) else None
    deps.recording = switch_recording(settings)
    deps.placer = node_placer(
        settings.freeswitch_nodes, client, connections, clock, namespace=namespace
    )
    if isinstance(switch, EslSwitch):
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        deps.lines = LineRebuilder(
            shared.reservations, switch.connections, holder, deps.config.slot_lease_s
        )
    return deps


def memory_tick_deps(
    clock: Clock,
    ids: IdSource,
    *,
    table: RoutingTable | None = None,
    store: CampaignStore | None = None,
    live: LiveView | None = None,
    switch: Originator | None = None,
    leases: LeaseStore | None = None,
    trunks: TrunkState | None = None,
    pacer_states: PacerStateStore | None = None,
) -> TickDeps:
    """A tick's dependencies on the in-memory twins (on ``clock``), each replaceable; no
    trunk table and no trunk health unless given; pacer states kept under ``leases``; nodes
    placed in memory with no limits known."""
    lease_store = leases if leases is not None else MemoryLeaseStore(clock)
    deps = _assemble(
        store if store is not None else MemoryCampaignStore(),
        live if live is not None else MemoryLiveView(),
        switch if switch is not None else MemorySwitch(),
        lease_store,
        trunks if trunks is not None else TrunkState(InMemoryReservations(clock)),
        table if table is not None else RoutingTable([]),
        clock,
        ids,
        pacer_states if pacer_states is not None else MemoryPacerStates(lease_store),
    )
    deps.placer = memory_node_placer(clock)
    return deps


def _assemble(
    store: CampaignStore,
    live: LiveView,
    switch: Originator,
    leases: LeaseStore,
    trunks: TrunkState,
    table: RoutingTable,
    clock: Clock,
    ids: IdSource,
    pacer_states: PacerStateStore,
) -> TickDeps:
    return TickDeps(
        store,
        live,
        switch,
        leases,
        trunks.reservations,
        table,
        clock,
        ids,
        health=trunks.health,
        pacer_states=pacer_states,
    )


def esl_switch(
    nodes: Sequence[FsNode], connect_wait_s: float, client_kind: EslClientKind = "own"
) -> EslSwitch:
    """One originate connection per node, each waited for up to ``connect_wait_s`` (a node
    not up yet is offered once its connection is: the client keeps reconnecting)."""
    connections: dict[str, EslConnection] = {}
    for node in nodes:
        client = build_esl_client(client_kind, node, Subscription(events=()), _ignore).start()
        client.wait_connected(connect_wait_s)
        connections[node.name] = client
    return EslSwitch(connections)


def esl_switch_probe(
    nodes: Sequence[FsNode], client_kind: EslClientKind = "own", connect_wait_s: float = 5.0
) -> EslSwitchProbe:
    """The preflight's probe of ``nodes``: each asked over a connection of its own, waited
    for up to ``connect_wait_s``, closed after its questions."""
    by_name = {node.name: node for node in nodes}

    def connect(name: str) -> ManagedEslConnection:
        node = by_name[name]
        # a one-shot question: a node that refuses the connection is down now, with no
        # reconnect loop to wait through
        try:
            socket.create_connection((node.host, node.port), connect_wait_s).close()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise EslDisconnected(f"no Event Socket at {node.host}:{node.port} ({why})") from None
        return build_esl_client(client_kind, node, Subscription(events=()), _ignore).start()

    return EslSwitchProbe(list(by_name), connect, connect_wait_s)


def _ignore(_event: object) -> None:
    return None
