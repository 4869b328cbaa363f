"""Node placement figures: placement decisions per second (pure), and the node take script
(`dialer.nodes.adapters.RedisNodeStore.take`: drain, sessions bound, sps bucket) per second
against local Redis beside a trivial Lua script in the same run (the floor: one EVALSHA
round trip).

Run: .venv/bin/python benchmarks/bench_nodes.py [--redis-url redis://127.0.0.1:6379/13]

Placement: 4 nodes of different sizes, one snapshot placing 1,000 calls (as a tick does,
counting its own placements), repeated. Takes: one process, sequential (one round trip each,
as a tick places its leads), on limits that never refuse.
"""

from __future__ import annotations

import argparse
import time

import redis

from dialer.nodes.adapters import RedisNodeStore
from dialer.nodes.capacity import Limits
from dialer.nodes.placement import NodesSnapshot, NodeView, choose

CALLS = 1_000
ROUNDS = 20
TAKES = 20_000


def placements_per_s() -> float:
    snapshot = NodesSnapshot(
        tuple(
            NodeView(f"fs{i}", sessions=0, max_sessions=most, tokens=float(most))
            for i, most in enumerate((500, 1_000, 2_000, 4_000))
        )
    )
    start = time.perf_counter()
    for _ in range(ROUNDS):
        s = snapshot
        for _ in range(CALLS):
            node = choose(s, None)
            assert node is not None
            s = s.placed(node)
    return ROUNDS * CALLS / (time.perf_counter() - start)


def takes_per_s(client: redis.Redis[str]) -> tuple[float, float]:
    store = RedisNodeStore(client, prefix="bench:node")
    limits = Limits(max_sessions=10**9, sps=10**9)
    trivial = client.register_script("return redis.call('HINCRBY', KEYS[1], 'n', 1)")
    start = time.perf_counter()
    for i in range(TAKES):
        assert store.take("fs1", limits, 2, 1_800_000_000.0 + i * 1e-3) is None
    take = TAKES / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(TAKES):
        trivial(keys=["bench:node:trivial"])
    floor = TAKES / (time.perf_counter() - start)
    client.delete("bench:node:{fs1}", "bench:node:trivial")
    return take, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    print(f"placement decisions/s (4 nodes, {CALLS} per snapshot): {placements_per_s():,.0f}")
    client: redis.Redis[str] = redis.Redis.from_url(args.redis_url, decode_responses=True)
    take, floor = takes_per_s(client)
    print(f"node takes/s, sequential: {take:,.0f}; trivial EVALSHA floor: {floor:,.0f} "
          f"({take / floor:.2f} of the floor)")  # fmt: skip


if __name__ == "__main__":
    main()
