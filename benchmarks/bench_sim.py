"""Switch simulator load benchmark (real-time clock, speed 1).

The simulator runs in a child process; this process is the ESL client. It originates
``--cps`` calls per second with ``bgapi`` for ``--seconds`` seconds on one connection
subscribed like the dialer's listener (CREATE, ANSWER, HANGUP_COMPLETE, BACKGROUND_JOB; or
``ALL`` with ``--all``). Callees answer after a fixed ring time and hang up after a fixed talk
time, so the scheduled time of every CHANNEL_ANSWER is known:

* schedule lag = ANSWER Event-Date-Timestamp - (CREATE timestamp + post-dial delay + ring);
* delivery lag = arrival time at the client - Event-Date-Timestamp;
* the simulator's own timer lag (how late its timers fired), reported by the child;
* peak concurrent channels (``show channels as json`` sampled every second).

Run: ``.venv/bin/python benchmarks/bench_sim.py`` (defaults: 200 cps for 15 s, ring 2 s,
talk 6 s, i.e. about 1,600 concurrent channels at the peak).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.esl.events import EVENT_TYPES, parse_event
from dialer.esl.frames import Frame, parse_frames
from dialer.sim.rawclient import RawClient
from dialer.sim.simulator import run_simulator

PDD_S = 0.05


def scenario(ring_s: float, talk_s: float, agents: int) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "seed": 1,
        "speed": 1.0,
        "switch": {"max_sessions": 100_000, "sessions_per_second": 100_000, "heartbeat_s": 20},
        "gateways": {"bench": {"proxy": "127.0.0.1:5090"}},
        "population": [
            {
                "outcomes": {"answer": 1.0},
                "post_dial_delay_s": PDD_S,
                "ring_time_s": ring_s,
                "talk_time_s": talk_s,
                "talk_from": "answer",
            }
        ],
    }
    if agents:
        names = [f"a{i}@bench" for i in range(agents)]
        raw["agent_endpoints"] = [{"match": "@agents", "answer_delay_s": 0.5}]
        raw["dialplan"] = [{"name": "cc_bench", "context": "bench", "queue": "q@bench"}]
        raw["callcenter"] = {
            "queues": [{"name": "q@bench", "strategy": "longest-idle-agent"}],
            "agents": [
                {
                    "name": n,
                    "contact": f"[leg_timeout=15]sofia/external/{n.split('@')[0]}@agents",
                    "status": "Available",
                    "wrap_up_time_s": 1,
                }
                for n in names
            ],
            "tiers": [{"agent": n, "queue": "q@bench", "level": 1, "position": 1} for n in names],
        }
    return raw


def serve(conn: Any, ring_s: float, talk_s: float, agents: int, run_s: float) -> None:
    """Child process: run the simulator for ``run_s`` seconds, then report its timer lag."""

    async def go() -> None:
        factory = True if agents else None
        async with run_simulator(scenario(ring_s, talk_s, agents), engine_factory=factory) as sim:
            conn.send((sim.host, sim.port_number))
            await asyncio.sleep(run_s)
            lag = sim.switch.clock.lag
            samples = sorted(lag.samples)
            conn.send(
                {
                    "timers": lag.count,
                    "lag_mean_ms": 1000 * lag.total_s / max(1, lag.count),
                    "lag_p99_ms": 1000 * samples[int(0.99 * (len(samples) - 1))] if samples else 0,
                    "lag_max_ms": 1000 * lag.max_s,
                    "records": len(sim.records.all()),
                    "bridged": sum(r.bridged_s is not None for r in sim.records.all()),
                    "abandoned": sum(r.abandoned for r in sim.records.all()),
                }
            )

    asyncio.run(go())


def take_frames(buf: bytearray) -> tuple[list[Frame], int]:
    """Complete frames at the start of ``buf`` and the number of bytes they use."""
    frames: list[Frame] = []
    pos = 0
    while True:
        head_end = buf.find(b"\n\n", pos)
        if head_end < 0:
            break
        head = bytes(buf[pos:head_end]).decode()
        length = 0
        for line in head.split("\n"):
            if line.startswith("Content-Length: "):
                length = int(line[16:])
        if head_end + 2 + length > len(buf):
            break
        frames.extend(parse_frames(bytes(buf[pos : head_end + 2 + length])))
        pos = head_end + 2 + length
    return frames, pos


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


async def client(host: str, port: int, args: argparse.Namespace) -> dict[str, Any]:
    events = await RawClient.connect(host, port)
    subs = "ALL" if args.all else "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE"
    await events.command(f"event plain {subs} BACKGROUND_JOB")
    control = await RawClient.connect(host, port)
    arrivals: list[tuple[int, Frame]] = []
    stop = asyncio.Event()

    async def reader() -> None:
        buf = bytearray()
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(events.reader.read(1 << 20), 0.5)
            except TimeoutError:
                continue
            if not chunk:
                break
            now_us = int(time.time() * 1_000_000)
            buf.extend(chunk)
            frames, used = take_frames(buf)
            del buf[:used]
            arrivals.extend((now_us, f) for f in frames)

    read_task = asyncio.create_task(reader())
    peak = 0

    async def sampler() -> None:
        nonlocal peak
        while not stop.is_set():
            rows = json.loads(await control.api("show channels as json"))
            peak = max(peak, int(rows["row_count"]))
            await asyncio.sleep(1.0)

    sample_task = asyncio.create_task(sampler())
    total = int(args.cps * args.seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    send_lag: list[float] = []
    cmd = (
        "bgapi originate {origination_caller_id_number=20220601,originate_timeout=30}"
        "sofia/gateway/bench/61%08d " + ("cc_bench XML bench" if args.agents else "&park") + "\n\n"
    )
    for i in range(total):
        due = start + i / args.cps
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        send_lag.append(max(0.0, loop.time() - due))
        events.writer.write((cmd % i).encode())
    sent_s = loop.time() - start
    await asyncio.sleep(args.ring + args.talk + 2.0)
    stop.set()
    await read_task
    sample_task.cancel()
    created: dict[str, int] = {}
    schedule_lag: list[float] = []
    delivery_lag: list[float] = []
    counts: dict[str, int] = {}
    for arrived_us, frame in arrivals:
        if frame.content_type not in EVENT_TYPES:
            continue
        ev = parse_event(frame)
        counts[ev.name] = counts.get(ev.name, 0) + 1
        ts = int(ev.get("Event-Date-Timestamp") or 0)
        delivery_lag.append((arrived_us - ts) / 1000)
        uid = ev.get("Unique-ID") or ""
        if ev.name == "CHANNEL_CREATE" and (ev.get("Caller-Destination-Number") or "")[:2] == "61":
            created[uid] = ts
        elif ev.name == "CHANNEL_ANSWER" and uid in created:
            expected = created[uid] + int((PDD_S + args.ring) * 1_000_000)
            schedule_lag.append((ts - expected) / 1000)
    await events.close()
    await control.close()
    return {
        "originates": total,
        "originate_window_s": round(sent_s, 3),
        "achieved_cps": round(total / sent_s, 1),
        "send_lag_p99_ms": round(1000 * pct(send_lag, 0.99), 2),
        "peak_concurrent_channels": peak,
        "events": counts,
        "answer_schedule_lag_ms": {
            "mean": round(statistics.fmean(schedule_lag), 2) if schedule_lag else None,
            "p99": round(pct(schedule_lag, 0.99), 2),
            "max": round(max(schedule_lag), 2) if schedule_lag else None,
        },
        "event_delivery_lag_ms": {
            "mean": round(statistics.fmean(delivery_lag), 2) if delivery_lag else None,
            "p99": round(pct(delivery_lag, 0.99), 2),
            "max": round(max(delivery_lag), 2) if delivery_lag else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cps", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--ring", type=float, default=2.0)
    parser.add_argument("--talk", type=float, default=6.0)
    parser.add_argument("--all", action="store_true", help="subscribe to ALL events")
    parser.add_argument(
        "--agents",
        type=int,
        default=0,
        help="send answered calls to a callcenter queue with this many agents (0 = &park)",
    )
    args = parser.parse_args()
    run_s = args.seconds + args.ring + args.talk + 6.0
    parent, child = mp.Pipe()
    proc = mp.Process(
        target=serve, args=(child, args.ring, args.talk, args.agents, run_s), daemon=True
    )
    proc.start()
    host, port = parent.recv()
    result = asyncio.run(client(host, port, args))
    result["simulator_timer_lag"] = parent.recv()
    proc.join(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
