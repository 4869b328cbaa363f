"""A process keeps its PostgreSQL connections: as many as ``DIALER_DB_POOL_SIZE`` stay open
between uses, so the API's request threads do not open and close one per request."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from dialer.config import load_settings
from workers.context import AppContext


@pytest.mark.integration
def test_connections_used_at_once_are_kept_up_to_the_pool_size(pg_url: str) -> None:
    context = AppContext(load_settings(database_url=pg_url, db_pool_size=12))
    engine = context.sessions.kw["bind"]
    assert isinstance(engine, Engine)
    sessions = [context.sessions() for _ in range(8)]
    for session in sessions:
        session.connection()
    for session in sessions:
        session.close()
    assert engine.pool.checkedin() == 8  # none closed on return
    engine.dispose()
