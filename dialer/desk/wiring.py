"""The desk's bus and cards over a context's Redis and database."""

from __future__ import annotations

from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.desk.adapters import RedisDeskBus, SqlLeadCards
from dialer.routing.wiring import DEFAULT_NAMESPACE

__all__ = ["desk_bus", "lead_cards"]


def desk_bus(client: redis.Redis[Any], namespace: str = DEFAULT_NAMESPACE) -> RedisDeskBus:
    """The bus of the processes sharing ``namespace``: channels ``<namespace>:desk:<agent>``."""
    return RedisDeskBus(client, prefix=f"{namespace}:desk")


def lead_cards(sessions: sessionmaker[Session]) -> SqlLeadCards:
    return SqlLeadCards(sessions)
