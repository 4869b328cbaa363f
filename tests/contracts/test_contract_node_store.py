"""The `NodeStore` contract (`dialer.nodes.ports`): `MemoryNodeStore` and `RedisNodeStore`
(one Lua script per update) share each node's sps bucket, its sessions bound and its drain
between every process; time is the caller's, so both run on the same instants."""

from __future__ import annotations

import threading

import pytest

from dialer.nodes.adapters import RedisNodeStore
from dialer.nodes.capacity import Limits
from dialer.nodes.fakes import MemoryNodeStore
from dialer.nodes.ports import NodeRefusal, NodeStore, Reading
from tests.conftest import Backend
from tests.support.clock import FakeClock

PORT = "node_store"
T0 = 1_800_000_000.25


@pytest.fixture
def store(backend: Backend) -> NodeStore:
    if backend.is_fake:
        return MemoryNodeStore(FakeClock())
    return RedisNodeStore(backend.redis(), prefix="test:node")


def takes(store: NodeStore, limits: Limits, now_s: float, n: int) -> list[NodeRefusal | None]:
    return [store.take("fs1", limits, 2, now_s) for _ in range(n)]


def test_the_sps_bucket_grants_half_the_rate_at_once_then_refills(store: NodeStore) -> None:
    sps = Limits(sps=10)
    assert takes(store, sps, T0, 6) == [None] * 5 + [NodeRefusal.SPS]
    assert takes(store, sps, T0 + 0.1, 1) == [NodeRefusal.SPS]  # 0.5 token back
    assert takes(store, sps, T0 + 0.2, 2) == [None, NodeRefusal.SPS]
    assert takes(store, sps, T0 + 10.0, 6) == [None] * 5 + [NodeRefusal.SPS]  # burst is 5
    assert store.records(["fs1"])["fs1"].placed == 11


def test_a_clock_behind_the_bucket_adds_no_token(store: NodeStore) -> None:
    sps = Limits(sps=4)
    assert takes(store, sps, T0, 3) == [None, None, NodeRefusal.SPS]
    assert takes(store, sps, T0 - 5.0, 1) == [NodeRefusal.SPS]


def test_sessions_are_the_reading_plus_the_calls_placed_since(store: NodeStore) -> None:
    bound = Limits(max_sessions=10)
    assert takes(store, bound, T0, 1) == [None]  # placed before the reading's mark
    store.record("fs1", Reading(sessions=4, sps=30, max_sessions=10, mark=1, at_s=T0))
    assert takes(store, bound, T0, 4) == [None, None, None, NodeRefusal.SESSIONS]
    record = store.records(["fs1"])["fs1"]
    assert (record.placed, record.in_use(2)) == (4, 10)
    # the calls ended: the next reading frees their room
    store.record("fs1", Reading(sessions=2, sps=30, max_sessions=10, mark=4, at_s=T0 + 1))
    assert takes(store, bound, T0 + 1, 5) == [None] * 4 + [NodeRefusal.SESSIONS]


def test_an_older_reading_never_replaces_a_newer_one(store: NodeStore) -> None:
    store.record("fs1", Reading(sessions=7, sps=30, max_sessions=100, mark=0, at_s=T0 + 1))
    store.record("fs1", Reading(sessions=1, sps=30, max_sessions=100, mark=0, at_s=T0))
    reading = store.records(["fs1"])["fs1"].reading
    assert reading is not None and reading.sessions == 7


def test_a_draining_node_takes_no_call_until_undrained(store: NodeStore) -> None:
    store.set_draining("fs1", True)
    assert takes(store, Limits(), T0, 1) == [NodeRefusal.DRAINING]
    assert store.records(["fs1", "fs2"])["fs1"].draining
    assert not store.records(["fs1", "fs2"])["fs2"].draining
    store.set_draining("fs1", False)
    assert takes(store, Limits(), T0, 1) == [None]
    assert store.mark("fs1") == 1


def test_nodes_never_seen_are_empty_and_unbounded(store: NodeStore) -> None:
    record = store.records(["fs9"])["fs9"]
    assert (record.reading, record.placed, record.draining, record.tokens) == (None, 0, False, None)
    assert takes(store, Limits(), T0, 3) == [None] * 3


def test_one_process_reads_a_node_per_period(store: NodeStore) -> None:
    assert store.claim_refresh("fs1", 30.0)
    assert not store.claim_refresh("fs1", 30.0)
    assert store.claim_refresh("fs2", 30.0)


def test_concurrent_takers_never_exceed_the_bucket(store: NodeStore) -> None:
    granted: list[bool] = []
    lock = threading.Lock()

    def taker() -> None:
        for _ in range(20):
            ok = store.take("fs1", Limits(sps=41), 2, T0) is None
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=taker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 20  # burst 20.5 at one instant
