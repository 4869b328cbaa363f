"""Click-to-call figures: ``POST /v1/calls`` sustained on loopback against the switch simulator.

Run: ``.venv/bin/python benchmarks/bench_api_calls.py [--rate 200] [--seconds 15]
[--clients 32]`` (needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379; uses
Redis db 13 and a database of its own, both removed afterwards).

Three processes: the API (``python -m workers.api``: real uvicorn, one process), the switch
simulator (``dialer sim serve --records``: it journals each originate it receives, with its
receive time, flushed at once), and this script, which sends the requests. Every request is a
full click-to-call: key check, agent, number, DNC, route, line reservation in Redis, the row
in PostgreSQL, the ``bgapi originate`` over the API's Event Socket connection; each request
carries its own Idempotency-Key (so the key lookup is paid, as a careful client makes it).

1. Open loop at ``--rate`` requests/s for ``--seconds``: requests/s completed, HTTP latency
   p50/p99, and p50/p99/max from the request leaving this script to the simulator receiving
   its originate (the journal's receive time of the call's agent leg; same machine, same
   wall clock). Target: >= 200 calls/s, p99 <= 50 ms.
2. Closed loop: ``--clients`` clients back to back for ``--seconds``: the most calls/s one
   API process takes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx
import psycopg
import redis
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.agents.orm import AgentRow  # noqa: E402
from dialer.apikeys.ports import Role  # noqa: E402
from dialer.db.base import make_engine, make_session_factory, transaction  # noqa: E402
from dialer.db.migrate import upgrade  # noqa: E402
from dialer.routing.model import CallerIdPolicy, Trunk  # noqa: E402
from dialer.routing.ratedeck import RateEntry  # noqa: E402
from dialer.routing.service import add_trunk, import_rates  # noqa: E402
from tests.support.api import issue_test_keys  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
AGENTS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def seed(url: str) -> str:
    """Trunk, agents and a system key; returns the key's token."""
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        add_trunk(
            session,
            Trunk(
                name="bench",
                proxy_host="192.0.2.1",
                callee_prefix="6",
                caller_id=CallerIdPolicy(numbers=("20220601",)),
            ),
        )
        import_rates(session, "bench", [RateEntry("86", Decimal("0.05"))])
        for i in range(AGENTS):
            contact = f"[leg_timeout=15]sofia/external/a{i}@127.0.0.1:5094"
            session.add(AgentRow(name=f"a{i}@default", contact=contact))
    token = issue_test_keys(sessions)[Role.SYSTEM]
    engine.dispose()
    return token


def start_sim(records: Path) -> tuple[subprocess.Popen[bytes], int]:
    scenario = yaml.safe_load((ROOT / "scenarios" / "sim" / "lab.yaml").read_text())
    scenario["switch"].update(max_sessions=1_000_000, sessions_per_second=1_000_000)
    scenario["gateways"] = {"bench": {"proxy": "192.0.2.1:5060"}}
    scenario["population"] = [
        {"gateway": "*", "outcomes": {"answer": 1.0}, "ring_time_s": 1.0, "talk_time_s": 2.0}
    ]
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(scenario, f)
    dialer = str(Path(sys.executable).parent / "dialer")
    cmd = [dialer, "sim", "serve", "--listen", f"127.0.0.1:{port}", "--scenario", f.name]
    proc = subprocess.Popen([*cmd, "--records", str(records)], cwd=ROOT, stdout=subprocess.DEVNULL)
    return proc, port


def start_api(db_url: str, sim_port: int, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DIALER_DATABASE_URL=db_url,
        DIALER_REDIS_URL=REDIS_URL,
        DIALER_FREESWITCH_NODES=json.dumps([{"name": "fs1", "port": sim_port}]),
        DIALER_API_HOST="127.0.0.1",
        DIALER_API_PORT=str(port),
        DIALER_HEALTH_DIR=tempfile.mkdtemp(prefix="bench-api-health-"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.api"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the API did not start")


class RawClient:
    """A lean HTTP/1.1 keep-alive client over asyncio streams: on a machine of two cores
    the load generator must not take the CPU the API needs (httpx spends ~10 ms of CPU per
    request here). Up to ``size`` connections, each reused for one request at a time."""

    def __init__(self, base: str, headers: dict[str, str], size: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self._addr = (host, int(port))
        self._head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(size)

    async def post(self, path: str, body: dict[str, object], key: str) -> tuple[int, bytes]:
        """POST with an Idempotency-Key: a request lost with a kept-alive connection the
        server had just closed is sent again, once, on a new one (it cannot dial twice)."""
        payload = json.dumps(body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Idempotency-Key: {key}\r\n"
            f"{self._head}Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        async with self._slots:
            try:
                return await self._exchange(request, reuse=True)
            except (OSError, asyncio.IncompleteReadError):
                return await self._exchange(request, reuse=False)

    async def _exchange(self, request: bytes, reuse: bool) -> tuple[int, bytes]:
        """One request and its response on a kept-alive connection (``reuse``) or a new one."""
        reader, writer = self._idle.pop() if reuse and self._idle else await self._open()
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            data = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            raise
        self._idle.append((reader, writer))
        return status, data

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(*self._addr)

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()


@dataclass
class Phase:
    sent_at: dict[str, float] = field(default_factory=dict)  # call uuid -> wall time sent
    http_ms: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0


async def one(client: RawClient, phase: Phase, n: int) -> None:
    body: dict[str, object] = {"number": f"+86138{n:08d}", "agent": f"a{n % AGENTS}@default"}
    sent = time.time()
    t0 = time.perf_counter()
    try:
        status, data = await client.post("/v1/calls", body, f"bench-{n}")
    except (OSError, asyncio.IncompleteReadError) as exc:
        phase.statuses[type(exc).__name__] += 1
        return
    phase.http_ms.append((time.perf_counter() - t0) * 1000)
    phase.statuses[status] += 1
    if status == 201:
        phase.sent_at[json.loads(data)["uuid"]] = sent


async def open_loop(client: RawClient, rate: float, seconds: float, first: int) -> Phase:
    phase = Phase(started=time.perf_counter())
    tasks = []
    n = first
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        due = start + (n - first) / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(client, phase, n)))
        n += 1
    await asyncio.gather(*tasks)
    phase.ended = time.perf_counter()
    return phase


async def closed_loop(client: RawClient, clients: int, seconds: float, first: int) -> Phase:
    phase = Phase(started=time.perf_counter())
    counter = iter(range(first, first + 10_000_000))

    async def worker() -> None:
        while time.perf_counter() - phase.started < seconds:
            await one(client, phase, next(counter))

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.ended = time.perf_counter()
    return phase


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def received_at(records: Path) -> dict[str, float]:
    """Each call's first journal line: when the simulator received its originate."""
    out: dict[str, float] = {}
    for line in records.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.setdefault(row["uuid"], float(row["created_s"]))
    return out


def report(name: str, phase: Phase, seen: dict[str, float], cpu: dict[str, float]) -> None:
    wall_s = phase.ended - phase.started
    ok = phase.statuses.get(201, 0)
    per_call = ", ".join(f"{who} {used / max(ok, 1) * 1000:.1f}" for who, used in cpu.items())
    share = ", ".join(f"{who} {used / wall_s:.0%}" for who, used in cpu.items())
    to_switch = [(seen[u] - t) * 1000 for u, t in phase.sent_at.items() if u in seen]
    print(f"{name}: {sum(phase.statuses.values())} requests in {wall_s:.1f} s, "
          f"{ok / wall_s:.0f} calls/s placed (201), statuses {dict(phase.statuses)}")  # fmt: skip
    print(
        f"  HTTP latency ms: p50 {pct(phase.http_ms, 0.5):.1f}  p99 {pct(phase.http_ms, 0.99):.1f}"
    )
    if to_switch:
        print(
            f"  request -> originate at the switch ms: p50 {pct(to_switch, 0.5):.1f}  "
            f"p99 {pct(to_switch, 0.99):.1f}  max {max(to_switch):.1f}  "
            f"(mean {statistics.fmean(to_switch):.1f}; {len(to_switch)}/{ok} calls seen)"
        )
    print(f"  CPU ms per call: {per_call}; CPU share of one core: {share}")


async def measured(pids: dict[str, int], phase: Awaitable[Phase]) -> tuple[Phase, dict[str, float]]:
    before = {who: cpu_s(pid) for who, pid in pids.items()}
    done = await phase
    return done, {who: cpu_s(pid) - before[who] for who, pid in pids.items()}


async def run(
    base: str, token: str, args: argparse.Namespace, records: Path, pids: dict[str, int]
) -> None:
    c = RawClient(base, {"Authorization": f"Bearer {token}"}, size=max(64, args.clients))
    try:
        warm = await closed_loop(c, 4, 2.0, 0)
        assert warm.statuses.get(201), f"warm-up failed: {dict(warm.statuses)}"
        steady, cpu = await measured(pids, open_loop(c, args.rate, args.seconds, 1_000_000))
        await asyncio.sleep(1.0)
        report(f"open loop at {args.rate:.0f}/s", steady, received_at(records), cpu)
        phase = closed_loop(c, args.clients, args.seconds, 2_000_000)
        saturated, cpu = await measured(pids, phase)
        await asyncio.sleep(1.0)
        report(f"closed loop, {args.clients} clients", saturated, received_at(records), cpu)
    finally:
        c.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    name = f"dialer_bench_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    client: redis.Redis[str] = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    records = Path(tempfile.mkdtemp(prefix="bench-api-")) / "records.jsonl"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        token = seed(db_url)
        sim, sim_port = start_sim(records)
        procs.append(sim)
        time.sleep(1.0)
        api_log = (records.parent / "api.log").open("wb")
        api, base = start_api(db_url, sim_port, api_log)
        procs.append(api)
        print(f"cpus: {os.cpu_count()}; API, simulator and this client share them")
        pids = {"api": api.pid, "simulator": sim.pid, "client": os.getpid()}
        asyncio.run(run(base, token, args, records, pids))
        print(f"(API log: {records.parent / 'api.log'})")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
        client.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
