"""``dialer health beat|worker`` against real Celery processes (on a Redis of the test's own):
healthy while they run, failing once one is killed with SIGKILL; a restarted one is healthy
again (it forgets what the dead one left)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.redis_server import own_redis
from tests.support.waiting import wait_until
from workers.cli.run import beat_argv, worker_argv

START_BOUND_S = 40.0


def health(kind: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(Path(sys.executable).parent / "dialer"), "health", kind]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@contextmanager
def process(argv: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("kind", "argv"),
    [
        ("beat", beat_argv("schedule", "warning")),
        ("worker", worker_argv("pacing", "threads", 2, "pacing", "warning")),
    ],
)
def test_a_killed_celery_process_fails_its_health_check(
    kind: str, argv: list[str], tmp_path: Path
) -> None:
    with own_redis(tmp_path) as server:
        env = dict(os.environ)
        env.update(
            DIALER_REDIS_URL=server.url,
            DIALER_DATABASE_URL=f"sqlite:///{tmp_path / 'dialer.db'}",
            DIALER_HEALTH_DIR=str(tmp_path / "health"),
        )
        root = Path(__file__).resolve().parents[2]
        env["PYTHONPATH"] = str(root)
        with process(argv, env, tmp_path) as proc:
            assert wait_until(lambda: health(kind, env, tmp_path).returncode == 0, START_BOUND_S)
            proc.kill()
            proc.wait(timeout=10)
            dead = health(kind, env, tmp_path)
            assert dead.returncode == 1
            assert f"(pid {proc.pid}): process is gone" in dead.stdout
        with process(argv, env, tmp_path):
            assert wait_until(lambda: health(kind, env, tmp_path).returncode == 0, START_BOUND_S)
