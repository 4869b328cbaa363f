"""Event Socket figures of both clients, in one run: events parsed per second (the same bytes),
bgapi originates acknowledged per second (against the switch simulator).

Run: ``.venv/bin/python benchmarks/bench_esl.py [--events N] [--originates N]``.

1. Events: the event frames of transcript a, plain (a) and JSON (a.json), repeated to N events.
   * own client: `FrameParser` fed 64 KiB chunks, each frame parsed into an `Event`;
   * greenswitch: its reader (``receive_events``: line by line, then its ``ESLEvent``
     parse of the whole URL-decoded body) over the same bytes; plain only: it cannot read
     JSON events;
   * greenswitch adapter: greenswitch's reader with event bodies decoded by
     `dialer.esl.events` (what `GreenswitchClient` runs).
2. Originates: for each client, a fresh simulator in its own process (``dialer sim serve``,
   limits raised so it refuses nothing); one connection sends N ``bgapi originate`` commands
   built by `build_originate` and waits for every BACKGROUND_JOB.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import greenswitch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.config import FsNode  # noqa: E402
from dialer.esl.adapters.greenswitch import GreenswitchConnection  # noqa: E402
from dialer.esl.events import EVENT_TYPES, Event, parse_event  # noqa: E402
from dialer.esl.frames import FrameParser  # noqa: E402
from dialer.esl.originate import OriginateSpec, build_originate  # noqa: E402
from dialer.esl.ports import EslClientKind, Subscription  # noqa: E402
from dialer.esl.wiring import build_esl_client  # noqa: E402
from tests.support.transcripts import transcript_frames  # noqa: E402

CHUNK = 64 * 1024
PLAIN, JSON = "a_answered_bridged_to_agent", "a_answered_bridged_to_agent.json"


def event_stream(name: str, count: int) -> bytes:
    wire = [
        b"Content-Length: %d\nContent-Type: %s\n\n" % (len(f.body), f.content_type.encode())
        + f.body
        for f in transcript_frames(name)
        if f.content_type in EVENT_TYPES
    ]
    return b"".join(wire[i % len(wire)] for i in range(count))


def parse_own(data: bytes) -> int:
    parser = FrameParser()
    parsed = 0
    for pos in range(0, len(data), CHUNK):
        for frame in parser.feed(data[pos : pos + CHUNK]):
            parse_event(frame)
            parsed += 1
    return parsed


class _CountingQueue:
    """Stands in for greenswitch's event queue: counts, keeps nothing (no memory growth)."""

    def __init__(self) -> None:
        self.count = 0

    def put(self, _event: Any) -> None:
        self.count += 1


def parse_greenswitch(data: bytes) -> int:
    conn = greenswitch.InboundESL("127.0.0.1", 0, "unused")
    queue = _CountingQueue()
    conn._esl_event_queue = queue  # where its reader hands each parsed event
    conn.sock_file = io.BytesIO(data)
    conn.connected = True
    conn.receive_events()
    return queue.count


def parse_adapter(data: bytes) -> int:
    parsed: list[Event] = []
    conn = GreenswitchConnection("127.0.0.1", 0, "unused", 1.0, parsed.append)
    conn.sock_file = io.BytesIO(data)
    conn.connected = True
    conn.receive_events()
    return len(parsed)


def bench_parse(label: str, parse: Callable[[bytes], int], data: bytes, count: int) -> float:
    """Parse ``data`` once; print and return events per second of CPU time (a loaded machine
    stretches wall time, not the CPU a parse needs)."""
    cpu_started = time.process_time()
    started = time.perf_counter()
    parsed = parse(data)
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    assert parsed == count, (label, parsed, count)
    print(
        f"events parsed, {label}: {parsed} in {cpu_s:.3f} s CPU = {parsed / cpu_s:,.0f} "
        f"events/s ({len(data) / cpu_s / 1e6:.1f} MB/s; wall {elapsed:.3f} s)"
    )
    return parsed / cpu_s


def best_rates(streams: dict[str, bytes], count: int, rounds: int) -> dict[str, float]:
    """The best of ``rounds`` runs of every (client, format) case, the cases interleaved."""
    cases: list[tuple[str, Callable[[bytes], int], str]] = [
        ("own client, plain", parse_own, "plain"),
        ("greenswitch, plain", parse_greenswitch, "plain"),
        ("greenswitch adapter, plain", parse_adapter, "plain"),
        ("own client, JSON", parse_own, "json"),
        ("greenswitch adapter, JSON", parse_adapter, "json"),
    ]
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, parse, fmt in cases:
            rate = bench_parse(label, parse, streams[fmt], count)
            best[label] = max(best.get(label, 0.0), rate)
    return best


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    scenario = yaml.safe_load((ROOT / "scenarios" / "sim" / "lab.yaml").read_text())
    scenario["switch"].update({"max_sessions": 1_000_000, "sessions_per_second": 1_000_000})
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(scenario))
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "dialer"),
            "sim",
            "serve",
            "--scenario",
            str(path),
            "--listen",
            f"127.0.0.1:{port}",
            "--speed",
            "20",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("simulator did not start")


def bench_originates(kind: EslClientKind, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_simulator(Path(tmp), port)
        client = build_esl_client(
            kind,
            FsNode(name="sim", host="127.0.0.1", port=port),
            Subscription(events=()),
            lambda e: None,
        ).start()
        try:
            assert client.wait_connected(5)
            now = datetime.now(UTC)
            commands = [
                "originate "
                + build_originate(
                    OriginateSpec(
                        str(uuid.uuid4()),
                        "sofia/gateway/carrier_a/6138000000",
                        "20220601",
                        "cc_sales",
                        "campaign",
                        1,
                        i,
                        i,
                    ),
                    now,
                )
                for i in range(count)
            ]
            started = time.perf_counter()
            jobs = [client.bgapi(cmd, timeout_s=120) for cmd in commands]
            results = [job.result(timeout=120) for job in jobs]
            elapsed = time.perf_counter() - started
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=10)
    ok = sum(r.ok for r in results)
    rate = count / elapsed
    print(
        f"originates acknowledged, {kind} client (BACKGROUND_JOB received, one connection): "
        f"{count} in {elapsed:.3f} s = {rate:,.0f} originates/s ({ok} +OK, {count - ok} -ERR)"
    )
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--originates", type=int, default=2_000)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    streams = {"plain": event_stream(PLAIN, args.events), "json": event_stream(JSON, args.events)}
    best = best_rates(streams, args.events, args.rounds)
    print(f"best of {args.rounds} rounds, events parsed per second of CPU:")
    for label, rate in best.items():
        print(f"  {label}: {rate:,.0f} events/s")
    ratio = best["own client, plain"] / best["greenswitch, plain"]
    print(f"own client / greenswitch, plain events on the same bytes: {ratio:.2f}x")
    if args.originates:
        for kind in ("own", "greenswitch"):
            bench_originates(kind, args.originates)


if __name__ == "__main__":
    main()
