"""Wiring of the nodes context: the placer every pacer and API process builds over the
deployment's Redis (``<namespace>:node:*``) and its own node connections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis

from dialer.clock import Clock
from dialer.config import FsNode
from dialer.esl.ports import EslConnection
from dialer.nodes.adapters import ConnectionStatusReader, RedisNodeStore
from dialer.nodes.fakes import MemoryNodeStore
from dialer.nodes.ports import NodeStore
from dialer.nodes.service import NodeConfig, NodePlacer

__all__ = ["memory_node_placer", "node_configs", "node_placer", "redis_node_store"]


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
