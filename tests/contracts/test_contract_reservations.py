"""The `CapacityReservations` contract (`dialer.routing.ports`): `InMemoryReservations` on the
manual clock, `RedisReservations` (the Lua script) on real Redis and real time. The restarts
run on a ``redis-server`` of the test's own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from dialer.routing.adapters import RedisReservations
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.lines import declare_idle
from dialer.routing.ports import CapacityReservations, Refusal, ReservationRequest
from tests.conftest import Backend
from tests.support.clock import FakeClock
from tests.support.redis_server import own_redis

PORT = "reservations"


@dataclass
class Harness:
    reservations: CapacityReservations
    wait_s: Callable[[float], None]
    # a new instance of the store, with or without its data
    restart: Callable[[bool], None] = lambda keep_data: None


@pytest.fixture
def h(backend: Backend) -> Harness:
    if backend.is_fake:
        clock = FakeClock()
        return Harness(InMemoryReservations(clock), clock.advance)
    reservations = RedisReservations(backend.redis(), prefix="test:cap")
    declare_idle(reservations, ["t1", "t2"], "test")
    return Harness(reservations, time.sleep)


@pytest.fixture
def fresh(backend: Backend, tmp_path: Path) -> Iterator[Harness]:
    """A store just started, which may be restarted: nothing rebuilt yet."""
    if backend.is_fake:
        clock = FakeClock()
        fake = InMemoryReservations(clock, rebuilt=False)
        yield Harness(fake, clock.advance, lambda keep: fake.restart(keep_data=keep))
        return
    with own_redis(tmp_path, persistent=True) as server:
        client: redis.Redis[str] = redis.Redis.from_url(server.url, decode_responses=True)
        yield Harness(
            RedisReservations(client), time.sleep, lambda keep: server.restart(keep_data=keep)
        )
        client.close()


def req(trunk: str = "t1", **fields: Any) -> ReservationRequest:
    fields.setdefault("call_uuid", uuid.uuid4().hex)
    fields.setdefault("max_concurrency", 0)
    fields.setdefault("max_cps", 0)
    fields.setdefault("lease_s", 30.0)
    return ReservationRequest(trunk=trunk, **fields)


def test_concurrency_slots_are_taken_and_released(h: Harness) -> None:
    r = h.reservations
    first = req(max_concurrency=2)
    assert r.reserve(first).granted
    assert r.reserve(req(max_concurrency=2)).granted
    refused = r.reserve(req(max_concurrency=2))
    assert (refused.granted, refused.refusal) == (False, Refusal.CONCURRENCY)
    assert r.usage(["t1"])["t1"].in_flight == 2
    assert r.release("t1", first.call_uuid)
    assert not r.release("t1", first.call_uuid)
    assert r.reserve(req(max_concurrency=2)).granted


def test_reserving_the_same_call_twice_takes_one_slot(h: Harness) -> None:
    r = h.reservations
    request = req(max_concurrency=1, per_number_cap=1, number="8613800138000", number_window="d")
    assert r.reserve(request).granted
    assert r.reserve(request).granted
    assert r.usage(["t1"])["t1"].in_flight == 1


def test_cps_allows_max_cps_in_any_second(h: Harness) -> None:
    r = h.reservations
    granted = [r.reserve(req(max_cps=3)).granted for _ in range(5)]
    assert granted == [True, True, True, False, False]
    refused = r.reserve(req(max_cps=3))
    assert refused.refusal == Refusal.CPS
    h.wait_s(1.05)
    assert r.reserve(req(max_cps=3)).granted


def test_per_number_cap_counts_attempts_in_the_window(h: Harness) -> None:
    r = h.reservations
    kw: dict[str, Any] = {
        "number": "8613800138000",
        "per_number_cap": 1,
        "number_window": "2026-11-21",
        "number_ttl_s": 100,
    }
    call = req(**kw)
    assert r.reserve(call).granted
    r.release("t1", call.call_uuid)
    refused = r.reserve(req(**kw))
    assert refused.refusal == Refusal.PER_NUMBER_CAP
    assert r.reserve(req(**{**kw, "number_window": "2026-11-22"})).granted
    assert r.reserve(req(**{**kw, "number": "8613800138001"})).granted
    assert r.reserve(req("t2", **kw)).granted


def test_caller_id_cap_per_day(h: Harness) -> None:
    r = h.reservations
    kw: dict[str, Any] = {
        "caller_id": "20220601",
        "caller_id_cap": 2,
        "caller_id_day": "2026-11-21",
        "caller_id_ttl_s": 100,
    }
    assert r.reserve(req(**kw)).granted
    assert r.reserve(req(**kw)).granted
    assert r.reserve(req(**kw)).refusal == Refusal.CALLER_ID_CAP


def test_all_or_nothing(h: Harness) -> None:
    """A refusal by one limit takes nothing from the others."""
    r = h.reservations
    cid: dict[str, Any] = {
        "caller_id": "20220601",
        "caller_id_cap": 1,
        "caller_id_day": "d",
        "caller_id_ttl_s": 100,
    }
    assert r.reserve(req(**cid)).granted
    num: dict[str, Any] = {
        "number": "8613800138000",
        "per_number_cap": 1,
        "number_window": "d",
        "number_ttl_s": 100,
    }
    refused = r.reserve(req(max_concurrency=5, max_cps=5, **num, **cid))
    assert refused.refusal == Refusal.CALLER_ID_CAP
    usage = r.usage(["t1"])["t1"]
    assert (usage.in_flight, usage.calls_last_second) == (1, 1)
    # The number's counter was not touched by the refused call.
    assert r.reserve(req(**num)).granted


def test_leaked_leases_expire(h: Harness) -> None:
    r = h.reservations
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).granted
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).refusal == Refusal.CONCURRENCY
    h.wait_s(0.3)
    assert r.usage(["t1"])["t1"].in_flight == 0
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).granted


def test_renew_keeps_a_long_call_alive(h: Harness) -> None:
    r = h.reservations
    call = req(max_concurrency=1, lease_s=0.3)
    assert r.reserve(call).granted
    h.wait_s(0.2)
    assert r.renew("t1", call.call_uuid, 0.5)
    h.wait_s(0.2)
    assert r.usage(["t1"])["t1"].in_flight == 1
    assert r.reserve(req(max_concurrency=1)).refusal == Refusal.CONCURRENCY
    h.wait_s(0.4)
    assert not r.renew("t1", call.call_uuid, 0.5)


def test_a_trunk_never_rebuilt_counts_as_full(fresh: Harness) -> None:
    r = fresh.reservations
    assert r.pending_rebuild(["t9", "t8"]) == ["t9", "t8"]
    refused = r.reserve(req("t9"))
    assert (refused.granted, refused.refusal) == (False, Refusal.REBUILDING)
    assert r.usage(["t9"])["t9"].in_flight == 0


def test_restore_writes_the_calls_up_and_opens_the_trunk(fresh: Harness) -> None:
    r = fresh.reservations
    assert r.begin_rebuild(["t9", "t8"], "pacer-a", 30.0) == ["t9", "t8"]
    assert r.restore("t9", ["u1", "u2"], 30.0, "pacer-a")
    assert r.pending_rebuild(["t9", "t8"]) == ["t8"]
    assert r.usage(["t9"])["t9"].in_flight == 2
    assert r.reserve(req("t9", max_concurrency=3)).granted
    assert r.reserve(req("t9", max_concurrency=3)).refusal == Refusal.CONCURRENCY
    assert r.release("t9", "u1")
    assert r.reserve(req("t9", max_concurrency=3)).granted
    assert r.reserve(req("t8")).refusal == Refusal.REBUILDING
    assert r.begin_rebuild(["t9"], "pacer-a", 30.0) == []  # rebuilt: nothing to fence


def test_one_rebuilder_per_trunk(fresh: Harness) -> None:
    r = fresh.reservations
    assert r.begin_rebuild(["t9"], "pacer-a", 30.0) == ["t9"]
    assert r.begin_rebuild(["t9"], "pacer-b", 30.0) == []
    assert not r.restore("t9", ["u1"], 30.0, "pacer-b")
    assert r.pending_rebuild(["t9"]) == ["t9"]
    assert r.usage(["t9"])["t9"].in_flight == 0
    assert r.begin_rebuild(["t9"], "pacer-a", 30.0) == ["t9"]  # its holder may go on
    assert r.restore("t9", [], 30.0, "pacer-a")
    assert not r.restore("t9", ["u1"], 30.0, "pacer-a")  # the fence went with the restore
    assert r.usage(["t9"])["t9"].in_flight == 0


def test_a_lapsed_fence_writes_nothing(fresh: Harness) -> None:
    r = fresh.reservations
    assert r.begin_rebuild(["t9"], "pacer-a", 0.2) == ["t9"]
    fresh.wait_s(0.3)
    assert r.begin_rebuild(["t9"], "pacer-b", 30.0) == ["t9"]
    assert not r.restore("t9", ["u1", "u2"], 30.0, "pacer-a")
    assert r.restore("t9", ["u3"], 30.0, "pacer-b")
    assert r.usage(["t9"])["t9"].in_flight == 1


@pytest.mark.parametrize("keep_data", [False, True], ids=["empty", "with-data"])
def test_a_restarted_store_refuses_until_rebuilt(fresh: Harness, keep_data: bool) -> None:
    r = fresh.reservations
    assert r.begin_rebuild(["t9"], "pacer-a", 30.0) == ["t9"]
    assert r.restore("t9", ["u1"], 30.0, "pacer-a")
    assert r.reserve(req("t9", call_uuid="u2", max_concurrency=3)).granted
    fresh.restart(keep_data)
    assert r.pending_rebuild(["t9"]) == ["t9"]
    assert r.reserve(req("t9", max_concurrency=3)).refusal == Refusal.REBUILDING
    assert r.begin_rebuild(["t9"], "pacer-b", 30.0) == ["t9"]
    assert r.restore("t9", ["u1", "u2", "u3"], 30.0, "pacer-b")
    assert r.usage(["t9"])["t9"].in_flight == 3
    assert r.reserve(req("t9", max_concurrency=3)).refusal == Refusal.CONCURRENCY
