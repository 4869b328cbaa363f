"""The `LeaseStore` contract (`dialer.runner.ports`): `MemoryLeaseStore` on the manual clock,
`RedisLeaseStore` on real Redis and real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dialer.runner.adapters import RedisLeaseStore
from dialer.runner.fakes import MemoryLeaseStore
from dialer.runner.ports import Lease, LeaseStore
from tests.conftest import Backend
from tests.support.clock import FakeClock

PORT = "lease_store"


@dataclass
class Harness:
    store: LeaseStore
    wait_s: Callable[[float], None]


@pytest.fixture
def harness(backend: Backend) -> Harness:
    if backend.is_fake:
        clock = FakeClock()
        return Harness(MemoryLeaseStore(clock), clock.advance)
    return Harness(RedisLeaseStore(backend.redis()), time.sleep)


def test_one_holder_at_a_time_and_tokens_grow(harness: Harness) -> None:
    store = harness.store
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
    assert store.holder(7) == second


def test_lapsed_lease_frees_the_campaign_and_fences_the_old_holder(harness: Harness) -> None:
    store = harness.store
    lease = store.acquire(9, "worker-a", ttl_ms=150)
    assert lease is not None and store.renew(lease, ttl_ms=150)
    harness.wait_s(0.3)
    assert store.holder(9) is None
    assert not store.renew(lease, ttl_ms=150)
    assert not store.release(lease)
    successor = store.acquire(9, "worker-b", ttl_ms=5000)
    assert successor is not None and successor.token > lease.token
    assert not store.is_current(lease)


def test_renewing_extends_the_lease_from_the_renewal(harness: Harness) -> None:
    store = harness.store
    lease = store.acquire(10, "worker-a", ttl_ms=1000)
    assert lease is not None
    harness.wait_s(0.6)
    assert store.renew(lease, ttl_ms=1000)
    harness.wait_s(0.6)  # 1.2 s after the grant, 0.6 s after the renewal
    assert store.is_current(lease) and store.holder(10) == lease
    assert store.acquire(10, "worker-b", ttl_ms=1000) is None


def test_a_lease_is_named_by_its_token(harness: Harness) -> None:
    store = harness.store
    assert store.holder(11) is None
    lease = store.acquire(11, "worker-a", ttl_ms=5000)
    assert lease is not None
    # the token handed on to the next slice is the lease, whatever owner name comes with it
    assert store.is_current(Lease(11, "worker-a", lease.token))
    assert store.is_current(Lease(11, "worker-b", lease.token))
    assert not store.is_current(Lease(11, "worker-a", lease.token + 1))
    assert not store.renew(Lease(11, "worker-a", lease.token + 1), ttl_ms=5000)
    assert not store.release(Lease(11, "worker-a", lease.token + 1))
    assert store.holder(11) == lease
    # fencing tokens count from 1, per campaign
    other = store.acquire(12, "worker-a", ttl_ms=5000)
    assert other is not None and other.token == lease.token == 1
