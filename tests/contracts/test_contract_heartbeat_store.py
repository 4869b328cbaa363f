"""The `HeartbeatStore` contract (`dialer.liveness.ports`): `MemoryHeartbeats` and
`FileHeartbeats`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dialer.liveness.adapters import FileHeartbeats
from dialer.liveness.fakes import MemoryHeartbeats
from dialer.liveness.ports import Heartbeat, HeartbeatStore
from tests.conftest import Backend

PORT = "heartbeat_store"


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> HeartbeatStore:
    if backend.is_fake:
        return MemoryHeartbeats()
    return FileHeartbeats(tmp_path / "health")


def test_the_last_beat_of_each_loop_is_kept_per_process(store: HeartbeatStore) -> None:
    assert store.of("listener") == []
    first = Heartbeat("listener", "node-fs2", "h1", 10, 100.0, 30.0)
    store.put(first)
    store.put(Heartbeat("listener", "node-fs1", "h1", 10, 101.0, 30.0, "retrying x: y"))
    store.put(Heartbeat("worker", "pace-3", "h1", 11, 102.0, 60.0))
    later = replace(first, beat_s=105.5, status="ok")
    store.put(later)
    assert [b.loop for b in store.of("listener")] == ["node-fs1", "node-fs2"]
    assert store.of("listener")[1] == later
    store.remove("listener", "node-fs2")
    store.remove("listener", "node-fs2")  # removing what is gone is no error
    assert [b.loop for b in store.of("listener")] == ["node-fs1"]
    assert [b.loop for b in store.of("worker")] == ["pace-3"]


def test_odd_loop_names_are_kept_apart(store: HeartbeatStore) -> None:
    store.put(Heartbeat("worker", "process-pacing@host.example", "h", 1, 1.0, 30.0))
    store.put(Heartbeat("worker", "../escape", "h", 1, 2.0, 30.0))
    assert {b.loop for b in store.of("worker")} == {"process-pacing@host.example", "../escape"}
