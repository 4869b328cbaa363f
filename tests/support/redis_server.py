"""A Redis server of the test's own, on a free loopback port, that the test may kill (SIGKILL)
and start again on the same port, empty or from its append-only file: for what a backend
outage or a restart does. Never the shared server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.support.net import free_port

_START_WAIT_S = 10.0


def _binary() -> str:
    beside = Path(sys.executable).parent / "redis-server"
    found = str(beside) if beside.exists() else shutil.which("redis-server")
    if found is None:
        pytest.fail("redis-server is not installed (see .ci/run)")
    return found


class OwnRedis:
    """One ``redis-server``: without persistence (a restart starts it empty), or with an
    append-only file written on every change (``persistent``: a restart keeps the data)."""

    def __init__(self, workdir: Path, persistent: bool = False) -> None:
        self._persistent = persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--dir", str(self._workdir), "--appendonly"]
        argv += ["yes", "--appendfsync", "always"] if self._persistent else ["no"]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe: redis.Redis[str] = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + _START_WAIT_S
        while time.monotonic() < deadline:
            try:
                probe.ping()
                probe.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"own redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def restart(self, *, keep_data: bool) -> None:
        """Kill the server (``kill -9``: nothing saved on the way out) and start a new one on
        the same port; ``keep_data`` False: its files are removed first (restarted empty)."""
        self.kill()
        if not keep_data:
            for path in sorted(self._workdir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
        self.start()

    def run_id(self) -> str:
        """The server process's ``run_id`` (new at every start)."""
        client = self.client()
        try:
            return str(client.info("server")["run_id"])
        finally:
            client.close()

    def client(self) -> redis.Redis[str]:
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)


@contextmanager
def own_redis(workdir: Path, persistent: bool = False) -> Iterator[OwnRedis]:
    """A started `OwnRedis`, killed at the end whatever happened."""
    server = OwnRedis(workdir, persistent)
    server.start()
    try:
        yield server
    finally:
        server.kill()
