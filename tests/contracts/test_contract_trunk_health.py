"""The `TrunkHealthStore` contract (`dialer.routing.ports`): `InMemoryTrunkHealth` and
`RedisTrunkHealth` (the Lua script) both equal the pure reducers of `dialer.routing.health`,
trial calls included."""

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
    claim_trial,
    on_call_result,
    on_gateway_status,
)
from dialer.routing.ports import TrunkHealthStore
from tests.conftest import Backend

PORT = "trunk_health"
POLICY = HealthPolicy(failure_threshold=3, cooldown_s=30.0)
T0 = 1_800_000_000.123456

# ("call", verdict, dt_s, call uuid), ("trial", None, dt_s, call uuid) or
# ("gateway", up, 0.0, "")
Step = tuple[str, bool | None, float, str]


@pytest.fixture
def store(backend: Backend) -> TrunkHealthStore:
    if backend.is_fake:
        return InMemoryTrunkHealth(POLICY)
    return RedisTrunkHealth(backend.redis(), POLICY, prefix="test:health")


def reduce(steps: list[Step]) -> list[tuple[TrunkHealth, bool]]:
    """The pure reducers' state after each step, and whether it granted a trial (the
    reference)."""
    health, now_s, out = TrunkHealth(), T0, []
    for kind, flag, dt_s, call_uuid in steps:
        now_s += dt_s
        granted = False
        if kind == "call":
            health = on_call_result(health, flag, now_s, POLICY, call_uuid)
        elif kind == "trial":
            claimed = claim_trial(health, call_uuid, now_s, POLICY)
            granted = claimed is not None
            health = claimed or health
        else:
            health = on_gateway_status(health, bool(flag))
        out.append((health, granted))
    return out


def replay(
    store: TrunkHealthStore, trunk: str, steps: list[Step]
) -> list[tuple[TrunkHealth, bool]]:
    now_s, out = T0, []
    for kind, flag, dt_s, call_uuid in steps:
        now_s += dt_s
        if kind == "call":
            out.append((store.record(trunk, flag, now_s, call_uuid), False))
        elif kind == "trial":
            granted = store.claim_trial(trunk, call_uuid, now_s)
            out.append((store.snapshot([trunk]).get(trunk, TrunkHealth()), granted))
        else:
            out.append((store.set_gateway(trunk, bool(flag)), False))
    return out


def test_failures_suspend_then_one_trial_decides(store: TrunkHealthStore) -> None:
    for i in range(2):
        assert store.record("t1", True, T0 + i, f"c{i}").availability(T0 + i) is Availability.UP
    suspended = store.record("t1", True, T0 + 2, "c2")
    assert suspended == TrunkHealth(True, 3, T0 + 2 + 30.0)
    assert store.snapshot(["t1", "t2"]) == {"t1": suspended}
    assert suspended.availability(T0 + 10) is Availability.DOWN
    assert not store.claim_trial("t1", "early", T0 + 10)  # still cooling down
    assert suspended.availability(T0 + 40) is Availability.PROBE
    # a call placed before the suspension ends well: it has no say
    assert store.record("t1", False, T0 + 40, "c0") == suspended
    end_s = suspended.suspended_until_s
    assert store.claim_trial("t1", "trial1", end_s)
    assert not store.claim_trial("t1", "trial2", end_s)  # exactly one trial
    on_trial = store.snapshot(["t1"])["t1"]
    assert on_trial.trial_call == "trial1" and on_trial.availability(end_s) is Availability.DOWN
    # the trial (from the very end of the cooldown) failed: suspended again at once
    again = store.record("t1", True, end_s, "trial1")
    assert again == TrunkHealth(True, 4, end_s + 30.0)
    assert store.claim_trial("t1", "trial3", T0 + 80)
    assert store.record("t1", None, T0 + 81, "trial3").trial_call == ""  # void: another
    assert store.claim_trial("t1", "trial4", T0 + 82)
    assert store.record("t1", False, T0 + 90, "trial4") == TrunkHealth()
    assert store.snapshot(["t1"]) == {}


def test_a_trial_never_settled_gives_way_after_its_lease(store: TrunkHealthStore) -> None:
    for i in range(3):
        store.record("t1", True, T0, f"c{i}")
    assert store.claim_trial("t1", "lost", T0 + 30)
    assert not store.claim_trial("t1", "next", T0 + 30 + POLICY.trial_lease_s - 1)
    assert store.claim_trial("t1", "next", T0 + 30 + POLICY.trial_lease_s)
    assert store.record("t1", False, T0 + 400, "lost").suspended_until_s != 0.0


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


UUIDS = st.sampled_from(["", "a", "b", "c"])
DT_S = st.sampled_from([0.0, 0.5, 29.9, 30.0, 300.0])
steps_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.sampled_from([True, False, None]), DT_S, UUIDS),
        st.tuples(st.just("call"), st.just(True), st.just(30.0), UUIDS),
        st.tuples(st.just("trial"), st.none(), DT_S, UUIDS),
        st.tuples(st.just("gateway"), st.booleans(), st.just(0.0), st.just("")),
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
    assert stored == (expected[-1][0] if expected else TrunkHealth())
