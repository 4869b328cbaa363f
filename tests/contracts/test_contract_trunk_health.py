"""The `TrunkHealthStore` contract (`dialer.routing.ports`): `InMemoryTrunkHealth` and
`RedisTrunkHealth` (the Lua script) both equal the pure reducers of `dialer.routing.health`."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.routing.adapters import RedisTrunkHealth
from dialer.routing.fakes import InMemoryTrunkHealth
from dialer.routing.health import (
    Availability,
    HealthPolicy,
    TrunkHealth,
    on_call_result,
    on_gateway_status,
)
from dialer.routing.ports import TrunkHealthStore
from tests.conftest import Backend

PORT = "trunk_health"
POLICY = HealthPolicy(failure_threshold=3, cooldown_s=30.0)
T0 = 1_800_000_000.123456

# ("call", failure, dt_s) or ("gateway", up, 0.0)
Step = tuple[str, bool, float]


@pytest.fixture
def store(backend: Backend) -> TrunkHealthStore:
    if backend.is_fake:
        return InMemoryTrunkHealth(POLICY)
    return RedisTrunkHealth(backend.redis(), POLICY, prefix="test:health")


def reduce(steps: list[Step]) -> list[TrunkHealth]:
    """The pure reducers' state after each step (the reference)."""
    health, now_s, out = TrunkHealth(), T0, []
    for kind, flag, dt_s in steps:
        now_s += dt_s
        if kind == "call":
            health = on_call_result(health, flag, now_s, POLICY)
        else:
            health = on_gateway_status(health, flag)
        out.append(health)
    return out


def replay(store: TrunkHealthStore, trunk: str, steps: list[Step]) -> list[TrunkHealth]:
    now_s, out = T0, []
    for kind, flag, dt_s in steps:
        now_s += dt_s
        if kind == "call":
            out.append(store.record(trunk, flag, now_s))
        else:
            out.append(store.set_gateway(trunk, flag))
    return out


def test_failures_suspend_then_probe_then_recover(store: TrunkHealthStore) -> None:
    for i in range(2):
        assert store.record("t1", True, T0 + i).availability(T0 + i) is Availability.UP
    suspended = store.record("t1", True, T0 + 2)
    assert suspended == TrunkHealth(True, 3, T0 + 2 + 30.0)
    assert store.snapshot(["t1", "t2"]) == {"t1": suspended}
    assert suspended.availability(T0 + 10) is Availability.DOWN
    assert suspended.availability(T0 + 40) is Availability.PROBE
    # the probe (from the very end of the cooldown) failed: suspended again at once
    again = store.record("t1", True, suspended.suspended_until_s)
    assert again.suspended_until_s == suspended.suspended_until_s + 30.0
    assert store.record("t1", False, T0 + 80) == TrunkHealth()
    assert store.snapshot(["t1"]) == {}


def test_gateway_down_is_kept_until_it_comes_back(store: TrunkHealthStore) -> None:
    assert store.set_gateway("gw", False) == TrunkHealth(gateway_up=False)
    store.record("gw", False, T0)
    assert store.snapshot(["gw"])["gw"].availability(T0) is Availability.DOWN
    assert store.set_gateway("gw", True) == TrunkHealth()
    assert store.snapshot(["gw"]) == {}


def test_trunks_are_independent(store: TrunkHealthStore) -> None:
    for _ in range(3):
        store.record("a", True, T0)
    store.record("b", True, T0)
    snap = store.snapshot(["a", "b", "c"])
    assert (snap["a"].consecutive_failures, snap["b"].consecutive_failures) == (3, 1)
    assert "c" not in snap


steps_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.booleans(), st.sampled_from([0.0, 0.5, 29.9, 30.0])),
        st.tuples(st.just("call"), st.just(True), st.just(30.0)),
        st.tuples(st.just("gateway"), st.booleans(), st.just(0.0)),
    ),
    max_size=25,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps_strategy)
def test_every_sequence_equals_the_pure_reducers(
    store: TrunkHealthStore, steps: list[Step]
) -> None:
    trunk = uuid.uuid4().hex[:12]
    expected = reduce(steps)
    assert replay(store, trunk, steps) == expected
    stored = store.snapshot([trunk]).get(trunk, TrunkHealth())
    assert stored == (expected[-1] if expected else TrunkHealth())
