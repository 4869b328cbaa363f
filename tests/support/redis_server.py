"""A ``redis-server`` of the test's own on a free loopback port, which the test may restart
(empty, or from its append-only file): the shared server is never restarted."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

_START_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """One ``redis-server`` process in ``workdir`` with AOF ``appendfsync always`` (so a
    restart that keeps the data keeps all of it); ``url`` stays the same across restarts."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self._dir), "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", "--protected-mode", "no",
        ]  # fmt: skip
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client: redis.Redis[str] = redis.Redis.from_url(self.url, decode_responses=True)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self.stop()
                    pytest.fail(f"redis-server on port {self.port} did not start")
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        self._proc = None

    def restart(self, *, keep_data: bool) -> None:
        """Kill the server (``kill -9``: nothing saved on the way out) and start a new one
        on the same port; ``keep_data`` False: its files are removed first (restarted empty)."""
        self.stop()
        if not keep_data:
            for path in sorted(self._dir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
        self.start()

    def run_id(self) -> str:
        client: redis.Redis[str] = redis.Redis.from_url(self.url, decode_responses=True)
        try:
            return str(client.info("server")["run_id"])
        finally:
            client.close()


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    """A started `PrivateRedis`, killed on the way out."""
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
