"""Loopback addresses of the tests."""

from __future__ import annotations

import json
import socket


def free_port() -> int:
    """A loopback TCP port nothing listens on now (free for a server to take, or closed for a
    client to be refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unreachable_nodes() -> str:
    """``DIALER_FREESWITCH_NODES`` of one node whose Event Socket port is closed."""
    return json.dumps([{"name": "fs1", "port": free_port()}])
