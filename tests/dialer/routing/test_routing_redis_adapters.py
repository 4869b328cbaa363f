"""The Redis adapters beyond their port contracts (tests/contracts): the reservation script
decides exactly as the in-memory fake on any sequence, and concurrent health updates never
lose one."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.routing.adapters import RedisReservations, RedisTrunkHealth
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.health import HealthPolicy
from dialer.routing.ports import ReservationRequest
from tests.support.clock import FakeClock

pytestmark = pytest.mark.integration

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.sampled_from(["t1", "t2"]),
            st.integers(0, 9),  # call
            st.sampled_from(["8613800138000", "8613800138001"]),
            st.sampled_from(["111", "222"]),
        ),
        st.tuples(st.just("release"), st.sampled_from(["t1", "t2"]), st.integers(0, 9)),
        st.tuples(  # lines up on the switches, restored under a fence
            st.just("rebuild"),
            st.sampled_from(["t1", "t2"]),
            st.frozensets(st.integers(0, 9), max_size=4),
            st.sampled_from(["a", "b"]),
        ),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_fake_and_redis_agree_on_every_sequence(
    redis_prefix: tuple[Any, str], ops: list[tuple[Any, ...]]
) -> None:
    """Differential: the in-memory fake decides exactly as the Lua script does."""
    client, base = redis_prefix
    prefix = f"{base}:{uuid.uuid4().hex[:10]}"
    real = RedisReservations(client, prefix)
    fake = InMemoryReservations(FakeClock(), rebuilt=False)
    try:
        for op in ops:
            if op[0] == "rebuild":
                _, trunk, calls, holder = op
                began = real.begin_rebuild([trunk], holder, 60)
                assert began == fake.begin_rebuild([trunk], holder, 60), op
                up = [f"c{c}" for c in sorted(calls)]
                assert real.restore(trunk, up, 60, holder) == fake.restore(trunk, up, 60, holder)
                assert real.pending_rebuild(["t1", "t2"]) == fake.pending_rebuild(["t1", "t2"])
                continue
            if op[0] == "release":
                _, trunk, call = op
                assert real.release(trunk, f"c{call}") == fake.release(trunk, f"c{call}")
                continue
            _, trunk, call, number, caller_id = op
            request = ReservationRequest(
                call_uuid=f"c{call}",
                trunk=trunk,
                max_concurrency=3,
                max_cps=5,
                lease_s=60,
                number=number,
                per_number_cap=2,
                number_window="w",
                number_ttl_s=60,
                caller_id=caller_id,
                caller_id_cap=3,
                caller_id_day="d",
                caller_id_ttl_s=60,
            )
            got, want = real.reserve(request), fake.reserve(request)
            assert (got.granted, got.refusal) == (want.granted, want.refusal), op
        assert real.usage(["t1", "t2"]) == fake.usage(["t1", "t2"])
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_concurrent_listeners_lose_no_failure(
    redis_prefix: tuple[redis.Redis[Any], str],
) -> None:
    client, prefix = redis_prefix
    policy = HealthPolicy(failure_threshold=10_000, cooldown_s=30.0)
    stores = [RedisTrunkHealth(client, policy, prefix=f"{prefix}:health") for _ in range(4)]

    def fail(store: RedisTrunkHealth) -> None:
        for _ in range(200):
            store.record("t1", True, 1_800_000_000.0)

    threads = [threading.Thread(target=fail, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].snapshot(["t1"])["t1"].consecutive_failures == 800
