"""Judging heartbeats, and ``dialer health``: one line per stopped loop, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.liveness.adapters import FileHeartbeats
from dialer.liveness.ports import Heartbeat
from dialer.liveness.service import failed_loops, pid_alive
from dialer.retry import Backoff
from workers.cli import app

NOW_S = 1_000.0


def beat(loop: str, at_s: float, status: str = "ok", pid: int = 7, host: str = "h") -> Heartbeat:
    return Heartbeat("listener", loop, host, pid, at_s, 30.0, status)


def test_fresh_loops_pass_stale_failed_and_gone_ones_are_named() -> None:
    beats = [
        beat("node-fs1", NOW_S - 29),
        beat("node-fs2", NOW_S - 31, "retrying listener fs2: call end: ConnectionError: x"),
        beat("node-fs3", NOW_S - 1, "failed: worker loop died: RuntimeError: y"),
        beat("node-fs4", NOW_S - 1, pid=8),
        beat("node-fs5", NOW_S - 1, pid=8, host="elsewhere"),  # not ours to look up
    ]
    lines = failed_loops(beats, NOW_S, "h", lambda pid: pid == 7)
    assert lines == [
        "listener node-fs2 (pid 7): no progress for 31 s (limit 30 s); last status: retrying "
        "listener fs2: call end: ConnectionError: x",
        "listener node-fs3 (pid 7): failed: worker loop died: RuntimeError: y",
        "listener node-fs4 (pid 8): process is gone (last beat 1 s ago)",
    ]


def test_a_finished_process_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(subprocess.os.getpid())  # type: ignore[attr-defined]


def test_backoff_doubles_up_to_its_ceiling() -> None:
    pauses = [Backoff(0.2, 1.0).delay_s(n) for n in range(0, 6)]
    assert pauses == [0.0, 0.2, 0.4, 0.8, 1.0, 1.0]


@pytest.fixture
def health_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIALER_HEALTH_DIR", str(tmp_path / "health"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "health"


def test_health_names_each_dead_loop_and_exits_1(health_dir: Path) -> None:
    import os
    import socket
    import time

    store = FileHeartbeats(health_dir)
    here, now_s = socket.gethostname(), time.time()
    store.put(Heartbeat("listener", "node-fs1", here, os.getpid(), now_s, 30.0))
    runner = CliRunner()
    ok = runner.invoke(app, ["health", "listener"])
    assert (ok.exit_code, ok.output) == (0, "healthy: listener\n")
    store.put(Heartbeat("listener", "node-fs2", here, os.getpid(), now_s, 30.0, "failed: died"))
    bad = runner.invoke(app, ["health", "listener"])
    assert bad.exit_code == 1
    assert bad.output.splitlines() == [f"listener node-fs2 (pid {os.getpid()}): failed: died"]
    nobody = runner.invoke(app, ["health", "beat"])
    assert (nobody.exit_code, nobody.output.splitlines()) == (
        1,
        ["beat: no heartbeat (not running on this machine?)"],
    )
    wrong = runner.invoke(app, ["health", "listenr"])
    assert wrong.exit_code == 1 and "unknown process 'listenr'" in wrong.output
