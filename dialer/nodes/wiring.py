"""Wiring of the nodes context: the configured nodes over the Event Socket."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from dialer.config import FsNode, Settings
from dialer.esl.ports import EslClientKind
from dialer.nodes.adapters import EslNodeApi
from dialer.nodes.http import NodesApi
from dialer.nodes.ports import NodeApi

__all__ = ["esl_node_api", "nodes_api"]


def esl_node_api(kind: EslClientKind, nodes: Sequence[FsNode]) -> NodeApi:
    return EslNodeApi(kind, nodes)


def nodes_api(settings: Settings, sessions: sessionmaker[Session]) -> NodesApi:
    """The routes' view of the settings' nodes (connections made per request)."""
    return NodesApi(
        cache(lambda: esl_node_api(settings.esl_client, settings.freeswitch_nodes)), sessions
    )
