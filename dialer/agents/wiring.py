"""Wiring of the agents context: the database's agent store, the sync a node's listener
runs after each (re)connect, and the one-shot connections to every node that a change of
agents (``dialer agents ...``, ``/v1/agents``) is made over."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager

from sqlalchemy.orm import Session, sessionmaker

from dialer.agent_admin import AgentError
from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentStore
from dialer.agents.service import sync_node
from dialer.config import FsNode
from dialer.esl.ports import EslClientKind, EslConnection
from dialer.esl.wiring import connect_once

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
"""How long a one-shot command waits for a node: a switch not there is reported at once."""


def select_nodes(nodes: Sequence[FsNode], only: str | None = None) -> list[FsNode]:
    """``nodes``, or the one named ``only``; `AgentError` when there is none."""
    chosen = [n for n in nodes if only is None or n.name == only]
    if not chosen:
        raise AgentError(f"no FreeSWITCH node named {only!r} in the settings")
    return chosen


def connect_node(kind: EslClientKind, node: FsNode) -> EslConnection:
    """A one-shot connection (`connect_once`): `EslDisconnected` in one line naming the
    node when it cannot be reached."""
    return connect_once(kind, node, CONNECT_TIMEOUT_S)


@contextmanager
def every_node(kind: EslClientKind, nodes: Sequence[FsNode]) -> Iterator[list[EslConnection]]:
    """A connection to each of ``nodes``, all opened before any command is sent, so that a
    node that cannot be reached (the first one is the error) leaves every node untouched;
    all closed at the end."""
    with ExitStack() as stack:
        conns = []
        for node in nodes:
            conn = connect_node(kind, node)
            stack.callback(conn.close)
            conns.append(conn)
        yield conns


def sql_agent_store(sessions: sessionmaker[Session]) -> SqlAgentStore:
    return SqlAgentStore(sessions)


def store_sync(store: AgentStore) -> Callable[[EslConnection], None]:
    """Make a node match ``store`` and log what it took (each failed command a warning)."""

    def sync(conn: EslConnection) -> None:
        result = sync_node(store, conn)
        if result.applied:
            log.info("agents %s: %d commands to match the database", conn.node, len(result.applied))
        for failure in result.failed:
            log.warning("agents %s: %s", conn.node, failure)

    return sync


def agent_sync(sessions: sessionmaker[Session]) -> Callable[[EslConnection], None]:
    """`store_sync` over the database's agents."""
    return store_sync(sql_agent_store(sessions))
