"""Contract tests: the same assertions against the in-memory store and real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from dialer.runner.lease import LeaseStore, MemoryLeaseStore, RedisLeaseStore
from tests.support.clock import FakeClock


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def store_and_wait(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[LeaseStore, object]]:
    if request.param == "memory":
        clock = FakeClock()
        yield MemoryLeaseStore(clock), clock.advance
        return
    client: redis.Redis[str] = request.getfixturevalue("redis_client")
    yield RedisLeaseStore(client), time.sleep


def test_one_holder_at_a_time_and_tokens_grow(store_and_wait: tuple[LeaseStore, object]) -> None:
    store, _ = store_and_wait
    first = store.acquire(7, "worker-a", ttl_ms=5000)
    assert first is not None
    assert store.acquire(7, "worker-b", ttl_ms=5000) is None
    assert store.holder(7) == first
    assert store.acquire(8, "worker-b", ttl_ms=5000) is not None
    assert store.release(first)
    second = store.acquire(7, "worker-b", ttl_ms=5000)
    assert second is not None and second.token > first.token
    assert not store.is_current(first) and store.is_current(second)
    assert not store.release(first)


def test_lapsed_lease_frees_the_campaign_and_fences_the_old_holder(
    store_and_wait: tuple[LeaseStore, object],
) -> None:
    store, wait = store_and_wait
    lease = store.acquire(9, "worker-a", ttl_ms=150)
    assert lease is not None and store.renew(lease, ttl_ms=150)
    wait(0.3)  # type: ignore[operator]
    assert store.holder(9) is None
    assert not store.renew(lease, ttl_ms=150)
    successor = store.acquire(9, "worker-b", ttl_ms=5000)
    assert successor is not None and successor.token > lease.token
    assert not store.is_current(lease)
