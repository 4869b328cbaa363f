"""The reservation contract, asserted identically on the fake and on real Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.routing.model import NumberWindow
from dialer.routing.redis_reservation import RedisReservations
from dialer.routing.reservation import (
    InMemoryReservations,
    Refusal,
    ReservationRequest,
    calendar_window,
)
from tests.support.clock import FakeClock


def req(trunk: str = "t1", **fields: Any) -> ReservationRequest:
    fields.setdefault("call_uuid", uuid.uuid4().hex)
    fields.setdefault("max_concurrency", 0)
    fields.setdefault("max_cps", 0)
    fields.setdefault("lease_s", 30.0)
    return ReservationRequest(trunk=trunk, **fields)


def test_concurrency_slots_are_taken_and_released(backend: Any) -> None:
    r = backend.reservations
    first = req(max_concurrency=2)
    assert r.reserve(first).granted
    assert r.reserve(req(max_concurrency=2)).granted
    refused = r.reserve(req(max_concurrency=2))
    assert (refused.granted, refused.refusal) == (False, Refusal.CONCURRENCY)
    assert r.usage(["t1"])["t1"].in_flight == 2
    assert r.release("t1", first.call_uuid)
    assert not r.release("t1", first.call_uuid)
    assert r.reserve(req(max_concurrency=2)).granted


def test_reserving_the_same_call_twice_takes_one_slot(backend: Any) -> None:
    r = backend.reservations
    request = req(max_concurrency=1, per_number_cap=1, number="8613800138000", number_window="d")
    assert r.reserve(request).granted
    assert r.reserve(request).granted
    assert r.usage(["t1"])["t1"].in_flight == 1


def test_cps_allows_max_cps_in_any_second(backend: Any) -> None:
    r = backend.reservations
    granted = [r.reserve(req(max_cps=3)).granted for _ in range(5)]
    assert granted == [True, True, True, False, False]
    refused = r.reserve(req(max_cps=3))
    assert refused.refusal == Refusal.CPS
    backend.advance(1.05)
    assert r.reserve(req(max_cps=3)).granted


def test_per_number_cap_counts_attempts_in_the_window(backend: Any) -> None:
    r = backend.reservations
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


def test_caller_id_cap_per_day(backend: Any) -> None:
    r = backend.reservations
    kw: dict[str, Any] = {
        "caller_id": "20220601",
        "caller_id_cap": 2,
        "caller_id_day": "2026-11-21",
        "caller_id_ttl_s": 100,
    }
    assert r.reserve(req(**kw)).granted
    assert r.reserve(req(**kw)).granted
    assert r.reserve(req(**kw)).refusal == Refusal.CALLER_ID_CAP


def test_all_or_nothing(backend: Any) -> None:
    """A refusal by one limit takes nothing from the others."""
    r = backend.reservations
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


def test_leaked_leases_expire(backend: Any) -> None:
    r = backend.reservations
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).granted
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).refusal == Refusal.CONCURRENCY
    backend.advance(0.3)
    assert r.usage(["t1"])["t1"].in_flight == 0
    assert r.reserve(req(max_concurrency=1, lease_s=0.2)).granted


def test_renew_keeps_a_long_call_alive(backend: Any) -> None:
    r = backend.reservations
    call = req(max_concurrency=1, lease_s=0.3)
    assert r.reserve(call).granted
    backend.advance(0.2)
    assert r.renew("t1", call.call_uuid, 0.5)
    backend.advance(0.2)
    assert r.usage(["t1"])["t1"].in_flight == 1
    assert r.reserve(req(max_concurrency=1)).refusal == Refusal.CONCURRENCY
    backend.advance(0.4)
    assert not r.renew("t1", call.call_uuid, 0.5)


def test_calendar_window_is_the_trunks_local_day() -> None:
    # 16:30 UTC is 00:30 the next day in Shanghai.
    now = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
    name, ttl = calendar_window(now, "Asia/Shanghai", NumberWindow.DAY)
    assert name == "2026-11-22"
    assert ttl == (23 * 3600 + 30 * 60) + 3600
    name, ttl = calendar_window(now, "UTC", NumberWindow.DAY)
    assert (name, ttl) == ("2026-11-21", 7 * 3600 + 30 * 60 + 3600)
    week, _ = calendar_window(now, "Asia/Shanghai", NumberWindow.WEEK)
    assert week == "2026-W47"


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
    ),
    max_size=25,
)


@pytest.mark.integration
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
    fake = InMemoryReservations(FakeClock())
    try:
        for op in ops:
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
