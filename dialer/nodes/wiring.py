"""Wiring of the nodes context: the placer every pacer and API process builds over the
deployment's Redis (``<namespace>:node:*``) and its own node connections; the API's view
of each node's gateways and registrations over one-shot connections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.config import FsNode, Settings
from dialer.esl.ports import EslClientKind, EslConnection
from dialer.nodes.adapters import ConnectionStatusReader, EslNodeApi, RedisNodeStore
from dialer.nodes.fakes import MemoryNodeStore
from dialer.nodes.http import NodesApi
from dialer.nodes.ports import NodeApi, NodeStore
from dialer.nodes.service import NodeConfig, NodePlacer

__all__ = [
    "esl_node_api",
    "memory_node_placer",
    "node_configs",
    "node_placer",
    "nodes_api",
    "redis_node_store",
]


def node_configs(nodes: Sequence[FsNode]) -> list[NodeConfig]:
    """The operator's limits and trunk bindings of ``DIALER_FREESWITCH_NODES``."""
    return [
        NodeConfig(
            n.name,
            max_sessions=n.max_sessions,
            sps=n.sps,
            trunks=None if n.trunks is None else frozenset(n.trunks),
        )
        for n in nodes
    ]


def redis_node_store(client: redis.Redis[Any], namespace: str) -> RedisNodeStore:
    return RedisNodeStore(client, prefix=f"{namespace}:node")


def node_placer(
    nodes: Sequence[FsNode],
    client: redis.Redis[Any],
    connections: Mapping[str, EslConnection] | None,
    clock: Clock,
    *,
    namespace: str,
) -> NodePlacer:
    """Placement over the namespace's shared node state, reading ``status`` over
    ``connections`` (the process's originate connections; None: not read here)."""
    return NodePlacer(
        redis_node_store(client, namespace),
        None if connections is None else ConnectionStatusReader(connections),
        node_configs(nodes),
        clock,
    )


def memory_node_placer(clock: Clock, store: NodeStore | None = None) -> NodePlacer:
    """Placement in memory with no limits known (no switch to read): calls spread evenly."""
    return NodePlacer(
        store if store is not None else MemoryNodeStore(clock),
        None,
        (),
        clock,
    )


def esl_node_api(kind: EslClientKind, nodes: Sequence[FsNode]) -> NodeApi:
    return EslNodeApi(kind, nodes)


def nodes_api(settings: Settings, sessions: sessionmaker[Session]) -> NodesApi:
    """The routes' view of the settings' nodes (connections made per request)."""
    return NodesApi(
        cache(lambda: esl_node_api(settings.esl_client, settings.freeswitch_nodes)), sessions
    )
