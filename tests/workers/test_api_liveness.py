"""The API process beats its heartbeat from its own event loop while it serves, and removes
it when it stops: ``dialer health api`` then tells a serving API from a gone or blocked one."""

from __future__ import annotations

import socket
import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from dialer.liveness.fakes import MemoryHeartbeats
from dialer.liveness.service import LoopBeat, failed_loops
from workers.api import create_app
from workers.context import AppContext


def test_the_api_beats_while_it_serves_and_forgets_its_beat_when_it_stops(
    sessions: sessionmaker[Session],
) -> None:
    store = MemoryHeartbeats()
    heartbeat = LoopBeat(store, "api", "server", stale_after_s=30.0)
    context = AppContext(load_settings(), sessions=sessions)
    app = create_app(context, notify=None, trunks=MemoryTrunks(), heartbeat=heartbeat,
                     beat_every_s=0.05)  # fmt: skip
    with TestClient(app):
        [first] = store.of("api")
        deadline = time.monotonic() + 10
        while store.of("api")[0].beat_s == first.beat_s and time.monotonic() < deadline:
            time.sleep(0.05)
        [later] = store.of("api")
        assert later.beat_s > first.beat_s and later.status == "ok"
        assert (
            failed_loops(store.of("api"), later.beat_s, socket.gethostname(), lambda _pid: True)
            == []
        )
    assert store.of("api") == []
