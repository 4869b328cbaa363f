"""Routing figures: route decisions per second, reservations per second against local Redis.

Run: .venv/bin/python benchmarks/bench_routing.py [--redis-url redis://127.0.0.1:6379/13]

Route decisions: 50 trunks (one group), 50,000 rate rows in total (1,000 per trunk,
prefixes 86 + 1-4 more digits), blind areas on a third of the trunks, caller-ID pools, a live
usage snapshot; numbers are random Chinese mobile numbers. "cold" routes numbers whose
geocoding segment was never seen (every look-up misses the cache); "warm" routes numbers of
segments already seen (a campaign's list repeats its regions).

Reservations: the Lua script against the local Redis, one process sequential (one round
trip each), one process pipelined (batches of 100) and several processes in parallel.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis

from dialer.routing.adapters import RedisReservations
from dialer.routing.audit import TrunkLimits, violations
from dialer.routing.lines import declare_idle
from dialer.routing.loadgen import LoadPlan, run_load
from dialer.routing.model import (
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    CampaignRouting,
    Trunk,
    TrunkUsage,
    UsageSnapshot,
)
from dialer.routing.ports import ReservationRequest
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.router import RouterState, RoutingTable, route

TRUNKS = 50
RATES_PER_TRUNK = 1_000
BLIND_CHOICES = [("北", "新", "西"), ("Beijing", "Tibet"), ("广东",), ()]


def build_trunks(rng: random.Random) -> list[Trunk]:
    prefixes = [f"861{d}" for d in range(30, 100)]
    prefixes += [f"861{d:03d}" for d in range(300, 1000)]
    prefixes += [f"861{d:04d}" for d in range(3000, 10000)]
    trunks = []
    for i in range(TRUNKS):
        chosen = ["86", *rng.sample(prefixes, RATES_PER_TRUNK - 1)]
        deck = RateDeck.of(
            RateEntry(p, Decimal(rng.choice(["0.030", "0.035", "0.040", "0.045"]))) for p in chosen
        )
        cids = tuple(
            f"0{rng.randint(10, 99)}{rng.randint(10_000_000, 99_999_999)}" for _ in range(5)
        )
        trunks.append(
            Trunk(
                name=f"trunk{i:02d}",
                proxy_host=f"192.0.2.{i + 1}",
                callee_prefix=str(i % 10),
                caller_id=CallerIdPolicy(cids, CallerIdMode.ROUND_ROBIN, daily_cap_per_number=500),
                max_concurrency=500,
                max_cps=50,
                blind_areas=BlindAreas(BLIND_CHOICES[i % 3] if i % 3 == 0 else ()),
                per_number_cap=1,
                weight=1 + i % 4,
                groups=("g",),
                rates=deck,
            )
        )
    assert sum(len(t.rates) for t in trunks) == TRUNKS * RATES_PER_TRUNK
    return trunks


def random_mobile(rng: random.Random) -> str:
    return f"+861{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}"


def bench_route(seconds: float, depth: int | None) -> None:
    rng = random.Random(7)
    trunks = build_trunks(rng)
    started = time.perf_counter()
    table = RoutingTable(trunks)
    print(
        f"routing table: {TRUNKS} trunks, {TRUNKS * RATES_PER_TRUNK} rate rows, "
        f"built in {time.perf_counter() - started:.2f} s"
    )
    usage = UsageSnapshot(
        trunks={t.name: TrunkUsage(rng.randint(0, 499), rng.randint(0, 49)) for t in trunks}
    )
    campaign = CampaignRouting("bench", "g")
    now = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

    def run(numbers: list[str]) -> tuple[int, float, int, float]:
        state = RouterState()
        done = candidates = 0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + seconds
        for number in numbers:
            decision = route(number, campaign, now, table, usage, state, depth)
            state = decision.state
            candidates += len(decision.candidates)
            done += 1
            if done % 1000 == 0 and time.perf_counter() > deadline:
                break
        return done, time.perf_counter() - t0, candidates, time.process_time() - cpu0

    label = f"failover depth {depth}" if depth else "full ranking"
    cold_numbers = [random_mobile(rng) for _ in range(200_000)]
    done, elapsed, cands, cpu_s = run(cold_numbers)
    print(
        f"route decisions ({label}), cold caches: {done / elapsed:,.0f}/s wall, "
        f"{done / cpu_s:,.0f}/CPU-s ({done} numbers, {cands / done:.1f} candidates each)"
    )
    # Warm: new numbers (new last four digits) in the segments just geocoded.
    warm_numbers = [n[:-4] + f"{rng.randint(0, 9999):04d}" for n in cold_numbers[:done]]
    warm_numbers = (warm_numbers * (1 + 400_000 // max(len(warm_numbers), 1)))[:400_000]
    done, elapsed, cands, cpu_s = run(warm_numbers)
    print(
        f"route decisions ({label}), warm caches: {done / elapsed:,.0f}/s wall, "
        f"{done / cpu_s:,.0f}/CPU-s ({done} numbers, {cands / done:.1f} candidates each)"
    )


def _request(trunk: str, rng: random.Random) -> ReservationRequest:
    return ReservationRequest(
        call_uuid=uuid.uuid4().hex,
        trunk=trunk,
        max_concurrency=1_000_000,
        max_cps=1_000_000,
        lease_s=60.0,
        number=f"86138{rng.randint(0, 99_999_999):08d}",
        per_number_cap=1,
        number_window="2026-11-21",
        number_ttl_s=120,
        caller_id=f"2022060{rng.randint(0, 9)}",
        caller_id_cap=1_000_000,
        caller_id_day="2026-11-21",
        caller_id_ttl_s=120,
    )


def _reserve_loop(url: str, prefix: str, count: int, batch: int, seed: int) -> int:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    reservations = RedisReservations(client, prefix)
    rng = random.Random(seed)
    granted = 0
    trunks = [f"trunk{i:02d}" for i in range(TRUNKS)]
    for start in range(0, count, batch):
        requests = [_request(rng.choice(trunks), rng) for _ in range(min(batch, count - start))]
        if batch == 1:
            granted += reservations.reserve(requests[0]).granted
        else:
            granted += sum(r.granted for r in reservations.reserve_many(requests))
    client.close()
    return granted


def _proc(args: tuple[str, str, int, int, int]) -> int:
    return _reserve_loop(*args)


def bench_reserve(url: str) -> None:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    prefix = f"bench:routing:{uuid.uuid4().hex[:8]}"
    trunks = [f"trunk{i:02d}" for i in range(TRUNKS)]
    declare_idle(RedisReservations(client, prefix), trunks, "bench")
    try:
        for label, count, batch in (
            ("1 process, sequential", 20_000, 1),
            ("1 process, pipelined x100", 100_000, 100),
        ):
            t0 = time.perf_counter()
            granted = _reserve_loop(url, prefix, count, batch, 1)
            elapsed = time.perf_counter() - t0
            print(f"reservations, {label}: {count / elapsed:,.0f}/s ({granted} granted)")
        procs, per_proc = 4, 10_000
        t0 = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            granted = sum(pool.map(_proc, [(url, prefix, per_proc, 1, s) for s in range(procs)]))
        elapsed = time.perf_counter() - t0
        print(
            f"reservations, {procs} processes, sequential: "
            f"{procs * per_proc / elapsed:,.0f}/s ({granted} granted)"
        )
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=5000))
        for i in range(0, len(keys), 5000):
            client.delete(*keys[i : i + 5000])
        client.close()


def bench_load(url: str, processes: int, attempts: int) -> None:
    """The load test at benchmark size, audited: limits must hold across all processes."""
    plan = LoadPlan(
        trunks={
            f"load{i}": TrunkLimits(
                max_concurrency=8, max_cps=400, per_number_cap=3, caller_id_cap=4000
            )
            for i in range(4)
        },
        numbers=tuple(f"86139{i:08d}" for i in range(5_000)),
        caller_ids=tuple(f"2022060{i}" for i in range(5)),
        attempts=attempts,
    )
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    prefix = f"bench:routing:load:{uuid.uuid4().hex[:8]}"
    try:
        t0 = time.perf_counter()
        grants, refusals = run_load(url, prefix, plan, processes, timeout_s=600)
        elapsed = time.perf_counter() - t0
        problems = violations(grants, plan.trunks)
        print(
            f"load: {processes} processes x {attempts:,} reservations in {elapsed:.1f} s "
            f"({processes * attempts / elapsed:,.0f}/s incl. releases): {len(grants):,} granted, "
            f"refused {dict(refusals)}; audit violations: {len(problems)}"
        )
        for line in problems[:10]:
            print("  " + line)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=5000))
        if keys:
            client.delete(*keys)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seconds", type=float, default=10.0, help="cap per route run")
    parser.add_argument("--depth", type=int, default=5, help="candidates wanted (failover)")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--load-processes", type=int, default=8)
    parser.add_argument("--load-attempts", type=int, default=10_000)
    args = parser.parse_args()
    bench_route(args.seconds, args.depth)
    bench_route(args.seconds, None)
    if args.skip_redis:
        return
    bench_reserve(args.redis_url)
    bench_load(args.redis_url, args.load_processes, args.load_attempts)


if __name__ == "__main__":
    main()
