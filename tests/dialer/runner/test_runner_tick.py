"""The tick with fakes: decisions respected, leads never lost, a lost lease launches nothing,
a claim taken over is never dialled, leads that can never be dialled do not come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns.domain import LeadStatus
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import Decision, Mode, Outcome, OutcomeKind, Snapshot
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.table import RoutingTable
from dialer.runner.fakes import MemoryCampaignStore, MemoryLeaseStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import CampaignPlan, EndedAttempt, Lease
from dialer.runner.service import lapsed_campaigns, pace_slice
from dialer.runner.snapshot import InFlight, outcomes_of
from dialer.runner.tick import CampaignTicker, TickDeps
from dialer.runner.wiring import memory_tick_deps
from tests.support.clock import FakeClock, SequentialIds

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CID = 7
QUEUE = "c@default"


class FixedPacer:
    """Launches ``launch`` each tick and remembers what it saw."""

    mode = Mode.PROGRESSIVE

    def __init__(self, launch: int) -> None:
        self.launch = launch
        self.snapshots: list[Snapshot] = []
        self.observed: list[Outcome] = []

    def decide(self, snapshot: Snapshot) -> Decision:
        self.snapshots.append(snapshot)
        return Decision(self.launch)

    def observe(self, outcome: Outcome) -> None:
        self.observed.append(outcome)


def trunk(name: str, max_concurrency: int) -> Trunk:
    deck = RateDeck.of([RateEntry("86", Decimal("0.05"))])
    return Trunk(name=name, proxy_host="192.0.2.1", max_concurrency=max_concurrency, rates=deck)


def setup(
    leads: int = 20, max_concurrency: int = 100, agents: int = 3
) -> tuple[TickDeps, MemoryCampaignStore, MemorySwitch, MemoryLeaseStore, FakeClock]:
    clock = FakeClock(T0)
    store = MemoryCampaignStore()
    store.plans[CID] = CampaignPlan(CID, "c", True, Mode.PROGRESSIVE, "cc_c", "campaign", QUEUE)
    for i in range(leads):
        store.add_lead(CID, i + 1, f"+86138{i:08d}")
    live = MemoryLiveView(
        [AgentState(f"a{i}", "Available", "Waiting", queues=(QUEUE,)) for i in range(agents)]
    )
    switch = MemorySwitch()
    leases = MemoryLeaseStore(clock)
    deps = memory_tick_deps(
        clock,
        SequentialIds(),
        table=RoutingTable([trunk("t1", max_concurrency)]),
        store=store,
        live=live,
        switch=switch,
        leases=leases,
    )
    return deps, store, switch, leases, clock


def test_tick_launches_what_the_pacer_decides_with_attempts_written() -> None:
    deps, store, switch, leases, _ = setup()
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    assert ticker.tick()
    assert len(switch.sent) == 4
    assert len(store.dialing()) == 4
    assert len(store.attempts) == 4
    for _, args in switch.sent:
        assert "sofia/gateway/t1/" in args and "cc_c XML campaign" in args
    # the snapshot saw the agents, and the launched calls count as ringing on the next tick
    assert ticker.tick()
    snap = ticker.pacer.snapshots[-1]  # type: ignore[attr-defined]
    assert len(snap.agents) == 3 and len(snap.calls) == 4
    assert all(
        m.claimed_by == f"w1#{lease.token}"
        for m in store.leads[CID].values()
        if m.status == "dialing"
    )


def test_leads_that_cannot_be_reserved_go_back_to_pending() -> None:
    deps, store, switch, leases, _ = setup(max_concurrency=3)
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(5), deps)
    assert ticker.tick()
    assert len(switch.sent) == 3
    assert len(store.dialing()) == 3
    assert ticker.stats.unroutable == 2
    pending = [m for m in store.leads[CID].values() if m.status == "pending"]
    assert len(pending) == 17  # nothing lost
    assert ticker.stats.parked == 0 and {m.last_outcome for m in pending} == {None}


def test_a_lost_lease_launches_nothing_and_returns_its_leads() -> None:
    deps, store, switch, leases, clock = setup()
    lease = leases.acquire(CID, "w1", 1_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    clock.advance(2)  # the lease lapsed
    taken = leases.acquire(CID, "w2", 10_000)
    assert taken is not None and taken.token > lease.token
    assert not ticker.tick()
    assert switch.sent == [] and store.dialing() == set()


def test_lease_lost_between_claim_and_originate_cancels_everything() -> None:
    deps, store, switch, leases, _ = setup()
    taken = leases.acquire(CID, "w1", 10_000)
    assert taken is not None
    lease = taken

    class StealingStore(MemoryCampaignStore):
        def start_attempts(self, attempts, claimer, now):  # type: ignore[no-untyped-def]
            ids = super().start_attempts(attempts, claimer, now)
            leases.release(lease)
            leases.acquire(CID, "w2", 10_000)
            return ids

    stealing = StealingStore(store.plans, store.leads)
    deps.store = stealing
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    assert not ticker.tick()
    assert switch.sent == []
    assert stealing.dialing() == set()
    assert {a.outcome for a in stealing.attempts.values()} == {"not_dialled"}
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 0


def test_redis_lost_between_claim_and_originate_returns_the_leads_at_once() -> None:
    """A tick whose lease check fails on the backend (Redis gone) after its attempt rows were
    written sends nothing: it must not leave those rows open (their leads would stay dialling
    until the listener gives up on calls nobody placed)."""
    deps, store, switch, leases, _ = setup()
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None

    class GoneLeases(MemoryLeaseStore):
        def is_current(self, lease: Lease) -> bool:
            raise ConnectionError("Redis is gone")

    deps.leases = GoneLeases(deps.clock)  # type: ignore[arg-type]
    deps.leases.renew = leases.renew  # type: ignore[method-assign]
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    with pytest.raises(ConnectionError):
        ticker.tick()
    assert switch.sent == []
    assert store.dialing() == set()
    assert {a.outcome for a in store.attempts.values()} == {"not_dialled"}


def test_node_down_returns_the_leads() -> None:
    deps, store, switch, leases, _ = setup()
    switch.down.add("fs1")
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    pacer = FixedPacer(4)
    assert CampaignTicker(lease, pacer, deps).tick()
    assert switch.sent == [] and store.dialing() == set()
    assert pacer.snapshots[-1].limits.dialing_allowed is False


def test_originate_refused_at_once_cancels_the_attempt_and_returns_the_lead() -> None:
    deps, store, switch, leases, _ = setup()
    switch.refusing.add("fs1")
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    assert ticker.tick()
    assert store.dialing() == set() and ticker.stats.cancelled == 4
    assert {a.outcome for a in store.attempts.values()} == {"not_dialled"}
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 0


def test_outcomes_are_fed_back_once() -> None:
    deps, store, _, leases, clock = setup()
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    pacer = FixedPacer(0)
    ticker = CampaignTicker(lease, pacer, deps)
    t = clock.now()
    sec = [t + timedelta(seconds=k) for k in range(4)]
    store.ended.append((CID, EndedAttempt(1, "connected", False, t, sec[3], sec[1], sec[2])))
    store.ended.append((CID, EndedAttempt(2, "no_answer", False, t, sec[2])))
    clock.advance(4)
    assert ticker.tick() and ticker.tick()
    kinds = [o.kind for o in pacer.observed]
    assert sorted(kinds) == sorted(
        [OutcomeKind.ANSWERED, OutcomeKind.HANDLED, OutcomeKind.NO_ANSWER]
    )
    assert pacer.snapshots[-1].budget.answered_in_window == 1


def test_outcomes_of_abandoned_and_machine() -> None:
    t = T0
    ab = EndedAttempt(1, "abandoned", True, t, t + timedelta(seconds=12), t + timedelta(seconds=7))
    assert [o.kind for o in outcomes_of(ab)] == [OutcomeKind.ANSWERED]
    assert outcomes_of(ab)[0].after_s == pytest.approx(7)
    m = EndedAttempt(
        2, "answering_machine", False, t, t + timedelta(seconds=20), t + timedelta(seconds=5)
    )
    assert [o.kind for o in outcomes_of(m)] == [OutcomeKind.MACHINE]
    assert outcomes_of(EndedAttempt(3, "not_dialled", False, t, t)) == []


def test_in_flight_keeps_launched_calls_until_the_listener_has_seen_them_end() -> None:
    flight = InFlight(unseen_grace_s=5)
    flight.launch("u1", 100.0)
    flight.launch("u2", 100.0)
    assert len(flight.views({}, 101.0)) == 2
    live = {"u1": CallState("u1", CID, answered_at_us=102_000_000)}
    views = flight.views(live, 103.0)
    assert {(v.call_id, v.stage.value) for v in views} == {("u1", "queued"), ("u2", "ringing")}
    assert [v.call_id for v in flight.views({}, 104.0)] == ["u2"]  # u1 ended
    assert flight.views({}, 106.0) == ()  # u2 never seen: refused before any channel


def test_pace_slice_hands_on_the_same_lease_and_the_next_slice_continues() -> None:
    deps, _, _, leases, clock = setup(leads=100)
    first = pace_slice(CID, "w1", None, deps, period_s=1.0, slice_s=5.0)
    assert first.lease is not None and first.report is not None
    assert first.report.ticks == 5
    # a second worker cannot start pacing while the lease is held
    assert pace_slice(CID, "w2", None, deps, slice_s=1.0).lease is None
    assert lapsed_campaigns(leases, [CID]) == []
    second = pace_slice(CID, "w1", first.lease.token, deps, period_s=1.0, slice_s=2.0)
    assert second.lease == first.lease
    assert clock.slept_s == [1.0] * 4 + [1.0]  # four waits in the first slice, one in this
    clock.advance(11)
    assert lapsed_campaigns(leases, [CID]) == [CID]
    assert pace_slice(CID, "w1", first.lease.token, deps, slice_s=1.0).lease is None


def test_a_stopped_campaign_releases_its_lease() -> None:
    deps, store, _, leases, _ = setup()
    store.plans[CID] = CampaignPlan(CID, "c", False, Mode.PROGRESSIVE, "cc_c", "campaign", QUEUE)
    result = pace_slice(CID, "w1", None, deps, slice_s=1.0)
    assert result.lease is None and leases.holder(CID) is None


def test_a_claim_taken_over_before_its_rows_are_written_is_never_dialled() -> None:
    deps, store, switch, leases, _ = setup()
    old = leases.acquire(CID, "w1", 10_000)
    assert old is not None
    taken: list[str] = []

    class TakenOverStore(MemoryCampaignStore):
        def start_attempts(self, attempts, claimer, now):  # type: ignore[no-untyped-def]
            # The old pacer stalls here; a new one takes the lease, frees its claims as
            # orphans and claims them itself before the old one writes its rows.
            leases.release(old)
            new = leases.acquire(CID, "w2", 10_000)
            assert new is not None
            taken.append(f"w2#{new.token}")
            assert self.release_orphans(CID, now + timedelta(seconds=1), taken[0]) == 4
            assert len(self.claim(CID, 4, now, taken[0])) == 4
            return super().start_attempts(attempts, claimer, now)

    deps.store = taken_over = TakenOverStore(store.plans, store.leads)
    ticker = CampaignTicker(old, FixedPacer(4), deps)
    assert not ticker.tick()
    assert switch.sent == [] and taken_over.attempts == {}
    assert ticker.stats.fenced == 4 and ticker.stats.launched == 0
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 0
    held = {m.claimed_by for m in taken_over.leads[CID].values() if m.status == "dialing"}
    assert held == set(taken) and len(taken_over.dialing()) == 4  # the new claims stand


def test_a_lead_taken_away_under_a_current_lease_is_skipped_alone() -> None:
    deps, store, switch, leases, _ = setup()
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None

    class OperatorStore(MemoryCampaignStore):
        def start_attempts(self, attempts, claimer, now):  # type: ignore[no-untyped-def]
            self.leads[CID][attempts[0].lead_id].status = "dnc"  # changed by hand meanwhile
            return super().start_attempts(attempts, claimer, now)

    deps.store = operated = OperatorStore(store.plans, store.leads)
    ticker = CampaignTicker(lease, FixedPacer(4), deps)
    assert ticker.tick()
    assert len(switch.sent) == 3 and len(operated.attempts) == 3
    assert (ticker.stats.fenced, ticker.stats.launched) == (1, 3)
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 3
    assert operated.leads[CID][1].status == "dnc"


def test_a_lead_no_originate_can_carry_fails_for_good_and_frees_its_slot() -> None:
    deps, store, switch, leases, _ = setup(leads=0)
    store.add_lead(CID, 1, "+86" + "1" * 45)  # routes (digits), too long for a dial string
    store.add_lead(CID, 2, "+8613800000002")
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(2), deps)
    assert ticker.tick()
    bad = store.leads[CID][1]
    assert (bad.status, bad.last_outcome, bad.claimed_by) == ("failed", "unsafe_value", None)
    [attempt] = [a for a in store.attempts.values() if a.row.lead_id == 1]
    assert (attempt.outcome, attempt.hangup_cause) == ("not_dialled", "UNSAFE_VALUE")
    assert (ticker.stats.unsafe, ticker.stats.launched, ticker.stats.cancelled) == (1, 1, 0)
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 1  # the good call only
    assert ticker.tick()  # the failed lead is not claimed again
    assert len([a for a in store.attempts.values() if a.row.lead_id == 1]) == 1
    assert len(switch.sent) == 1


def test_a_number_no_trunk_reaches_is_parked_and_does_not_crowd_out_others() -> None:
    deps, store, _, leases, clock = setup(leads=0)
    store.add_lead(CID, 1, "+15551230001")  # the only trunk has rates for 86 only
    for i in range(2, 6):
        store.add_lead(CID, i, f"+8613800000{i:03d}")
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(2), deps)
    assert ticker.tick()
    parked = store.leads[CID][1]
    assert (parked.status, parked.last_outcome, parked.claimed_by) == (
        "pending",
        "unroutable",
        None,
    )
    assert parked.lead.next_attempt_at == clock.now() + timedelta(hours=1)
    assert (ticker.stats.parked, ticker.stats.unroutable, ticker.stats.launched) == (1, 0, 1)
    assert ticker.stats.refusals == {"no rate": 1}
    assert ticker.tick()  # the next tick dials two others, not the parked lead again
    assert ticker.stats.launched == 3 and ticker.stats.parked == 1
    assert 1 not in {a.row.lead_id for a in store.attempts.values()}
    clock.advance(3600)
    later = leases.acquire(CID, "w1", 10_000)
    assert later is not None
    next_slice = CampaignTicker(later, FixedPacer(2), deps)
    assert next_slice.tick()  # due again after the delay, and still unreachable
    assert (next_slice.stats.parked, next_slice.stats.launched) == (1, 1)


@pytest.mark.parametrize("record", [True, False])
def test_only_a_recording_campaigns_calls_are_recorded_and_uploaded(record: bool) -> None:
    from dataclasses import replace

    from dialer.esl.originate import Recording
    from dialer.sim.originate_parse import OriginateRequest, parse_originate

    deps, store, switch, leases, _ = setup(leads=2)
    store.plans[CID] = replace(store.plans[CID], record=record)
    deps.recording = Recording("/rec", file_format="wav", upload_url="http://u:p@h:1/up")
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    assert CampaignTicker(lease, FixedPacer(2), deps).tick()
    assert len(switch.sent) == 2
    for _, args in switch.sent:
        req = parse_originate(args)
        assert isinstance(req, OriginateRequest)
        uuid = req.global_vars["origination_uuid"]
        hook = req.global_vars.get("api_hangup_hook")
        if record:
            path = f"/rec/{T0.date().isoformat()}/{uuid}.wav"
            assert req.global_vars["execute_on_answer"] == f"record_session {path}"
            assert hook == f'system curl -XPOST -F "files=@{path}" http://u:p@h:1/up?uuid={uuid} &'
        else:
            assert hook is None and "execute_on_answer" not in req.global_vars


def test_a_new_holder_gives_back_the_claims_a_dead_holder_left_however_recent() -> None:
    deps, store, _, leases, clock = setup(leads=5, agents=0)
    old = leases.acquire(CID, "w1", 5_000)
    assert old is not None
    dead = f"w1#{old.token}"
    store.claim(CID, 3, clock.now(), dead)  # then killed before its attempt rows
    clock.advance(6)  # its lease lapses; the supervisor starts the campaign elsewhere
    result = pace_slice(CID, "w2", None, deps, period_s=1.0, slice_s=1.0)
    assert result.lease is not None and result.lease.token > old.token
    members = store.leads[CID].values()
    assert [m.claimed_by for m in members if m.claimed_by == dead] == []
    assert sum(m.status is LeadStatus.PENDING for m in members) == 5  # no agent: none dialled
