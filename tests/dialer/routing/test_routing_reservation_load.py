"""Many processes reserving against one real Redis: every limit holds across processes."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from typing import Any

import pytest
import redis

from dialer.routing.adapters import RedisReservations
from dialer.routing.audit import Grant, TrunkLimits, peak_concurrency, peak_per_second, violations
from dialer.routing.lines import declare_idle
from dialer.routing.loadgen import LoadPlan, run_load
from dialer.routing.ports import ReservationRequest

pytestmark = pytest.mark.integration

PLAN = LoadPlan(
    trunks={
        "ta": TrunkLimits(max_concurrency=12, max_cps=150, per_number_cap=2, caller_id_cap=50),
        "tb": TrunkLimits(max_concurrency=5, max_cps=60, per_number_cap=2, caller_id_cap=50),
    },
    numbers=tuple(f"86138{i:08d}" for i in range(120)),
    caller_ids=("20220601", "20220602", "20220603"),
    attempts=4000,
)


def _url(client: redis.Redis[Any]) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw['db']}"


@pytest.mark.slow
def test_limits_hold_across_processes(redis_prefix: tuple[redis.Redis[Any], str]) -> None:
    client, prefix = redis_prefix
    started = time.monotonic()
    grants, refusals = run_load(_url(client), prefix, PLAN, processes=8)
    assert time.monotonic() - started < 60
    # Every kind of limit was reached, so the audit below is not vacuous.
    assert set(refusals) == {"concurrency", "cps", "per_number_cap", "caller_id_cap"}, refusals
    assert {g.trunk for g in grants} == {"ta", "tb"}
    assert all(g.released_us >= g.granted_us for g in grants)
    assert violations(grants, PLAN.trunks) == []


def test_audit_catches_broken_limits() -> None:
    """The audit itself: it must flag what it is meant to flag."""
    over = [Grant("t", f"c{i}", "n", "c", 1_000 * i, 10_000_000) for i in range(4)]
    assert peak_concurrency(over) == 4
    assert peak_per_second(over) == 4
    found = violations(over, {"t": TrunkLimits(3, 3, 3, 3)})
    assert len(found) == 4
    spread = [Grant("t", f"c{i}", f"n{i}", "c", 1_000_000 * i, 1_000_000 * i + 5) for i in range(4)]
    assert violations(spread, {"t": TrunkLimits(1, 1, 1, 4)}) == []


def _crashing_worker(url: str, prefix: str) -> None:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    reservations = RedisReservations(client, prefix)
    for _ in range(4):
        request = ReservationRequest(
            uuid.uuid4().hex, "tc", max_concurrency=4, max_cps=0, lease_s=0.5
        )
        assert reservations.reserve(request).granted
    os._exit(0)  # dies holding every slot


def test_slots_of_a_crashed_process_free_themselves(
    redis_prefix: tuple[redis.Redis[Any], str],
) -> None:
    client, prefix = redis_prefix
    declare_idle(RedisReservations(client, prefix), ["tc"], "test")
    proc = multiprocessing.get_context("fork").Process(
        target=_crashing_worker, args=(_url(client), prefix)
    )
    proc.start()
    proc.join(timeout=30)
    reservations = RedisReservations(client, prefix)
    fresh = ReservationRequest(uuid.uuid4().hex, "tc", max_concurrency=4, max_cps=0, lease_s=5)
    assert reservations.usage(["tc"])["tc"].in_flight == 4
    assert not reservations.reserve(fresh).granted
    time.sleep(0.6)
    assert reservations.usage(["tc"])["tc"].in_flight == 0
    assert reservations.reserve(fresh).granted
