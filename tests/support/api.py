"""The HTTP API in tests: served for real (uvicorn on a free loopback port, in a thread) for
tests where a switch or the simulator posts to it over TCP, and API keys of each role."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.ports import Role
from dialer.apikeys.service import issue_key
from tests.support.clock import FakeClock


@contextmanager
def served(app: FastAPI, start_timeout_s: float = 10.0) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of ``app`` served until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header of an API key's token."""
    return {"Authorization": f"Bearer {token}"}


def issue_test_keys(
    sessions: sessionmaker[Session], agent: str = "1001@default"
) -> dict[Role, str]:
    """A token of each role on the database of ``sessions`` (the agent key acts as ``agent``)."""
    store = SqlKeyStore(sessions)
    clock = FakeClock()
    return {
        role: issue_key(store, clock, role, agent=agent if role is Role.AGENT else "").token
        for role in Role
    }
