"""``dialer sim serve`` as a process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_until(sock: socket.socket, marker: bytes, timeout_s: float = 5.0) -> bytes:
    sock.settimeout(timeout_s)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_serve_process(tmp_path: Path) -> None:
    port = _free_port()
    records = tmp_path / "calls.csv"
    cmd = [
        sys.executable,
        "-c",
        "from workers.cli import app; app()",
        "sim",
        "serve",
        "--listen",
        f"127.0.0.1:{port}",
        "--scenario",
        str(ROOT / "scenarios" / "sim" / "lab.yaml"),
        "--speed",
        "20",
        "--records",
        str(records),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.2)
        with sock:
            assert _read_until(sock, b"\n\n") == b"Content-Type: auth/request\n\n"
            sock.sendall(b"auth ClueCon\n\n")
            assert b"+OK accepted" in _read_until(sock, b"+OK accepted")
            sock.sendall(
                b"api originate {origination_caller_id_number=1}sofia/gateway/carrier_a/6138 "
                b"&park\n\n"
            )
            assert b"+OK " in _read_until(sock, b"+OK ")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    lines = records.read_text().splitlines()
    assert lines[0].startswith("uuid,gateway,number")
    assert ",carrier_a,6138," in lines[1]
