"""The tick reads trunk health: a down trunk gets no calls and its lines do not pace."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from dialer.agent_state import AgentState
from dialer.pacing import Decision, Mode, Outcome, Snapshot
from dialer.routing.fakes import InMemoryReservations, InMemoryTrunkHealth
from dialer.routing.health import HealthPolicy
from dialer.routing.model import Trunk
from dialer.routing.ports import ReservationRequest
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.table import RoutingTable
from dialer.routing.wiring import TrunkState
from dialer.runner.fakes import MemoryCampaignStore, MemoryLeaseStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import CampaignPlan
from dialer.runner.tick import CampaignTicker
from dialer.runner.wiring import memory_tick_deps
from tests.support.clock import FakeClock, SequentialIds

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CID = 7
QUEUE = "c@default"


class FixedPacer:
    mode = Mode.PROGRESSIVE

    def __init__(self, launch: int) -> None:
        self.launch = launch
        self.snapshots: list[Snapshot] = []

    def decide(self, snapshot: Snapshot) -> Decision:
        self.snapshots.append(snapshot)
        return Decision(self.launch)

    def observe(self, outcome: Outcome) -> None:
        return None


def trunk(name: str, rate: str, lines: int) -> Trunk:
    deck = RateDeck.of([RateEntry("86", Decimal(rate))])
    return Trunk(name=name, proxy_host="192.0.2.1", max_concurrency=lines, rates=deck)


def ticker(
    health: InMemoryTrunkHealth | None, reservations: InMemoryReservations | None = None
) -> tuple[CampaignTicker, MemorySwitch, FixedPacer]:
    store = MemoryCampaignStore()
    store.plans[CID] = CampaignPlan(CID, "c", True, Mode.PROGRESSIVE, "cc_c", "campaign", QUEUE)
    for i in range(10):
        store.add_lead(CID, i + 1, f"+86138{i:08d}")
    live = MemoryLiveView([AgentState("a0", "Available", "Waiting", queues=(QUEUE,))])
    clock = FakeClock(T0)
    switch, leases = MemorySwitch(), MemoryLeaseStore(clock)
    table = RoutingTable([trunk("cheap", "0.01", 20), trunk("dear", "0.05", 5)])
    deps = memory_tick_deps(
        clock,
        SequentialIds(),
        table=table,
        store=store,
        live=live,
        switch=switch,
        leases=leases,
        trunks=TrunkState(reservations or InMemoryReservations(clock), health),
    )
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    pacer = FixedPacer(4)
    return CampaignTicker(lease, pacer, deps), switch, pacer


def trunks_of(switch: MemorySwitch) -> set[str]:
    return {args.split("sofia/gateway/")[1].split("/")[0] for _, args in switch.sent}


def test_without_health_the_cheapest_trunk_takes_the_calls() -> None:
    tick, switch, pacer = ticker(None)
    assert tick.tick()
    assert trunks_of(switch) == {"cheap"}
    assert pacer.snapshots[0].limits.trunk_free_lines == 25


def test_a_suspended_trunk_is_skipped_and_its_lines_not_counted() -> None:
    health = InMemoryTrunkHealth(HealthPolicy(failure_threshold=2, cooldown_s=60))
    for _ in range(2):
        health.record("cheap", True, T0.timestamp() - 1)
    tick, switch, pacer = ticker(health)
    assert tick.tick()
    assert trunks_of(switch) == {"dear"} and len(switch.sent) == 4
    assert pacer.snapshots[0].limits.trunk_free_lines == 5


def test_a_suspended_trunk_gets_one_trial_call_whatever_older_calls_are_up() -> None:
    """Three calls placed before the outage are still up on "cheap" when its suspension
    ends: exactly one trial call goes there (the others fail over), none while it is on its
    way; an old call ending normally does not lift the suspension, the trial's success does."""
    health = InMemoryTrunkHealth(HealthPolicy(failure_threshold=2, cooldown_s=60))
    reservations = InMemoryReservations(FakeClock(T0))
    for i in range(3):
        request = ReservationRequest(f"old{i}", "cheap", max_concurrency=20, max_cps=0, lease_s=600)
        assert reservations.reserve(request).granted
    for i in range(2):
        health.record("cheap", True, T0.timestamp() - 61, f"failed{i}")
    tick, switch, _ = ticker(health, reservations)
    assert tick.tick()
    sent = [trunks_of_call(args) for _, args in switch.sent]
    assert sorted(sent) == ["cheap", "dear", "dear", "dear"]
    trial = health.snapshot(["cheap"])["cheap"].trial_call
    assert trial and trial in switch.sent[sent.index("cheap")][1]
    switch.sent.clear()
    assert tick.tick()
    assert trunks_of(switch) == {"dear"}  # the trial is on its way
    health.record("cheap", False, T0.timestamp() + 5, "old0")  # answered before: no say
    assert health.snapshot(["cheap"])["cheap"].trial_call == trial
    health.record("cheap", False, T0.timestamp() + 6, trial)
    assert health.snapshot(["cheap"]) == {}


def trunks_of_call(args: str) -> str:
    return args.split("sofia/gateway/")[1].split("/")[0]


def test_a_gateway_down_is_skipped_until_it_is_up() -> None:
    health = InMemoryTrunkHealth()
    health.set_gateway("cheap", False)
    tick, switch, _ = ticker(health)
    assert tick.tick()
    assert trunks_of(switch) == {"dear"}
    health.set_gateway("cheap", True)
    switch.sent.clear()
    assert tick.tick()
    assert trunks_of(switch) == {"cheap"}
