"""Event Socket figures: events parsed per second, originates acknowledged per second.

Run: ``.venv/bin/python benchmarks/bench_esl.py [--events N] [--originates N]``.

1. Events: the event frames of transcripts a (plain) and a.json (JSON), repeated to N events,
   fed to `FrameParser` in 64 KiB chunks and each parsed into an `Event` (target >= 20,000/s).
2. Originates: the switch simulator runs in its own process (``dialer sim serve``, limits
   raised so it refuses nothing); one `EslClient` connection sends N ``bgapi originate``
   commands built by `build_originate` and waits for every BACKGROUND_JOB (target >= 200/s).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.esl.client import EslClient  # noqa: E402
from dialer.esl.events import EVENT_TYPES, parse_event  # noqa: E402
from dialer.esl.frames import FrameParser  # noqa: E402
from dialer.esl.originate import OriginateSpec, build_originate  # noqa: E402
from dialer.esl.seam import Subscription  # noqa: E402

TRANSCRIPTS = ROOT.parent / "shared" / "esl-transcripts"
CHUNK = 64 * 1024


def event_stream(name: str, count: int) -> bytes:
    frames = FrameParser().feed((TRANSCRIPTS / f"{name}.esl.txt").read_bytes())
    wire = [
        b"Content-Length: %d\nContent-Type: %s\n\n" % (len(f.body), f.content_type.encode())
        + f.body
        for f in frames
        if f.content_type in EVENT_TYPES
    ]
    return b"".join(wire[i % len(wire)] for i in range(count))


def bench_events(name: str, count: int) -> float:
    data = event_stream(name, count)
    parser = FrameParser()
    parsed = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for pos in range(0, len(data), CHUNK):
        for frame in parser.feed(data[pos : pos + CHUNK]):
            parse_event(frame)
            parsed += 1
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    assert parsed == count, (parsed, count)
    rate = parsed / elapsed
    print(
        f"events parsed ({name}): {parsed} in {elapsed:.3f} s wall = {rate:,.0f} events/s; "
        f"{cpu_s:.3f} s CPU = {parsed / cpu_s:,.0f} events/s per core "
        f"({len(data) / elapsed / 1e6:.1f} MB/s)"
    )
    return rate


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


def bench_originates(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_simulator(Path(tmp), port)
        client = EslClient(
            "sim", "127.0.0.1", port, "ClueCon", Subscription(events=()), lambda e: None
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
        f"originates acknowledged (BACKGROUND_JOB received, one connection): {count} in "
        f"{elapsed:.3f} s = {rate:,.0f} originates/s ({ok} +OK, {count - ok} -ERR)"
    )
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--originates", type=int, default=2_000)
    args = ap.parse_args()
    bench_events("a_answered_bridged_to_agent.json", args.events)
    bench_events("a_answered_bridged_to_agent", args.events)
    if args.originates:
        bench_originates(args.originates)


if __name__ == "__main__":
    main()
