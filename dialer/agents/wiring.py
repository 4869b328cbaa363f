"""Wiring of the agents context: the database's agent store, and the sync a node's listener
runs after each (re)connect."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentStore
from dialer.agents.service import sync_node
from dialer.esl.ports import EslConnection

log = logging.getLogger(__name__)


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
