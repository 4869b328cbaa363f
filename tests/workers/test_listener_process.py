"""The listener process exits 1 as soon as a node's listener cannot go on, and ``dialer health
listener`` fails once a node's worker thread died."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import NodeListener
from dialer.listener.wiring import RunningListener
from dialer.liveness.adapters import FileHeartbeats
from dialer.liveness.service import LoopBeat
from tests.dialer.listener.test_listener_backend_errors import DyingClock
from workers.cli import app
from workers.listener import watch


@dataclass
class StubClient:
    node: str = "fs1"
    failure: str | None = None

    def close(self) -> None:
        pass


def running(listener: NodeListener, client: StubClient) -> RunningListener:
    worker = threading.Thread(target=listener.run, daemon=True)
    worker.start()
    return RunningListener(listener, client, worker)  # type: ignore[arg-type]


def test_a_dead_worker_thread_fails_health_and_ends_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_HEALTH_DIR", str(tmp_path / "health"))
    monkeypatch.chdir(tmp_path)
    beat = LoopBeat(FileHeartbeats(tmp_path / "health"), "listener", "node-fs1", 30)
    dying = NodeListener(
        "fs1", MemoryLiveState(), MemoryAttempts(), MemoryTrunks(), clock=DyingClock(),
        heartbeat=beat,
    )  # fmt: skip
    node = running(dying, StubClient())
    node.worker.join(timeout=5)
    assert watch([node], threading.Event(), 0.01) == 1
    result = CliRunner().invoke(app, ["health", "listener"])
    assert result.exit_code == 1
    assert "listener node-fs1" in result.output
    assert "worker loop died: RuntimeError: clock gone" in result.output


def test_a_client_that_gave_up_ends_the_process() -> None:
    alive = NodeListener("fs1", MemoryLiveState(), MemoryAttempts(), MemoryTrunks())
    client = StubClient()
    node = running(alive, client)
    try:
        done = threading.Event()
        threading.Timer(0.2, lambda: setattr(client, "failure", "FramingError: bad")).start()
        assert watch([node], done, 0.01) == 1
        assert node.broken() == "listener fs1: Event Socket client failed: FramingError: bad"
        done.set()
        client.failure = None
        assert watch([node], done, 0.01) == 0
    finally:
        alive.stop()
        node.worker.join(timeout=5)
