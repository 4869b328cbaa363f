"""The `PacerStateStore` contract (`dialer.runner.ports`): `MemoryPacerStates` over
`MemoryLeaseStore` on the manual clock, `RedisPacerStates` over `RedisLeaseStore` on real
Redis. A save is fenced by the lease: a worker whose lease lapsed cannot overwrite the state
its successor saved."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dialer.runner.adapters import RedisLeaseStore, RedisPacerStates
from dialer.runner.fakes import MemoryLeaseStore, MemoryPacerStates
from dialer.runner.ports import LeaseStore, PacerStateStore
from tests.conftest import Backend
from tests.support.clock import FakeClock

PORT = "pacer_state_store"
TTL_S = 3_600


@dataclass
class Harness:
    states: PacerStateStore
    leases: LeaseStore
    wait_s: Callable[[float], None]


@pytest.fixture
def harness(backend: Backend) -> Harness:
    if backend.is_fake:
        clock = FakeClock()
        leases = MemoryLeaseStore(clock)
        return Harness(MemoryPacerStates(leases), leases, clock.advance)
    client = backend.redis()
    redis_leases = RedisLeaseStore(client)
    return Harness(RedisPacerStates(client), redis_leases, time.sleep)


def test_nothing_saved_reads_none_and_a_save_reads_back(harness: Harness) -> None:
    assert harness.states.load(5) is None
    lease = harness.leases.acquire(5, "worker-a", ttl_ms=5000)
    assert lease is not None
    state = {"version": 1, "pacer": {"answer": {"step": 1.5, "count": 3}}, "ids": ["a", "b"]}
    assert harness.states.save(lease, state, TTL_S)
    assert harness.states.load(5) == state
    newer = {**state, "ids": ["c"]}
    assert harness.states.save(lease, newer, TTL_S)  # the holder saves again at every hand-off
    assert harness.states.load(5) == newer
    assert harness.states.load(6) is None


def test_a_stale_lease_cannot_overwrite_its_successors_state(harness: Harness) -> None:
    old = harness.leases.acquire(9, "worker-a", ttl_ms=150)
    assert old is not None
    assert harness.states.save(old, {"by": "a"}, TTL_S)
    harness.wait_s(0.3)  # worker-a stalls; its lease lapses
    assert not harness.states.save(old, {"by": "a, lapsed"}, TTL_S)  # nobody holds: refused
    successor = harness.leases.acquire(9, "worker-b", ttl_ms=5000)
    assert successor is not None and successor.token > old.token
    assert harness.states.load(9) == {"by": "a"}  # what the successor restores
    assert harness.states.save(successor, {"by": "b"}, TTL_S)
    assert not harness.states.save(old, {"by": "a, late"}, TTL_S)
    assert harness.states.load(9) == {"by": "b"}


def test_a_save_needs_the_current_lease_even_before_the_successor_saved(
    harness: Harness,
) -> None:
    old = harness.leases.acquire(11, "worker-a", ttl_ms=150)
    assert old is not None
    harness.wait_s(0.3)
    successor = harness.leases.acquire(11, "worker-b", ttl_ms=5000)
    assert successor is not None
    assert not harness.states.save(old, {"by": "a"}, TTL_S)
    assert harness.states.load(11) is None
