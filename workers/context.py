"""What every process starts from: its settings, read once, and what it builds from them.

Each process's composition root (the CLI, a Celery worker or beat, the listener, the demo)
works from one `AppContext`: the settings, the clock and id source, the key namespace of the
switch-side state in Redis, and the database and Redis connections, opened on first use so
that a process that needs neither (beat) never opens them. The database is brought to the
current schema when it is first opened, so the embedded default needs no separate set-up
step. :func:`app_context` is the process's own, built on first use; the demo derives one for
its simulated switch.
"""

from __future__ import annotations

import threading
from functools import cache

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.config import Settings, load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.kv import connect_redis
from dialer.routing.wiring import DEFAULT_NAMESPACE


class AppContext:
    """One process's settings and connections; safe to share between threads.

    ``sessions`` and ``redis`` may be handed in (the demo's context shares the CLI's);
    otherwise they are opened from ``settings`` on first use.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = SYSTEM_CLOCK,
        ids: IdSource = UUID_IDS,
        namespace: str = DEFAULT_NAMESPACE,
        sessions: sessionmaker[Session] | None = None,
        redis_client: redis.Redis[str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ids = ids
        self.namespace = namespace
        self._sessions = sessions
        self._redis = redis_client
        self._lock = threading.Lock()

    def open(self) -> None:
        """Open the database (migrating it) and Redis now rather than on first use."""
        _ = self.sessions, self.redis

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions of the database, migrated to the current schema when first opened."""
        with self._lock:
            if self._sessions is None:
                upgrade(self.settings.database_url)
                url = self.settings.database_url
                pool = {} if url.startswith("sqlite") else {"pool_size": self.settings.db_pool_size}
                self._sessions = make_session_factory(make_engine(url, **pool))
            return self._sessions

    @property
    def redis(self) -> redis.Redis[str]:
        """The Redis client (for the embedded server, the one that keeps it running)."""
        with self._lock:
            if self._redis is None:
                self._redis = connect_redis(self.settings.redis_url)
            return self._redis


@cache
def app_context() -> AppContext:
    """This process's context; the settings are read here, once per process."""
    return AppContext(load_settings())
