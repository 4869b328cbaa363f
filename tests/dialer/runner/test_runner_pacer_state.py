"""The pacer of a campaign lives as long as the campaign runs: a slice hands its state to the
next one and to a worker that takes over, a stale holder cannot overwrite it, a pacer that
lost it relearns from the newest outcomes, and answers are learnt when they happen."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.calls.machine import CallState
from dialer.pacing import Mode, OutcomeKind, PredictivePacer, pacer_state
from dialer.runner.carry import Carried, resume
from dialer.runner.fakes import MemoryCampaignStore, MemoryPacerStates
from dialer.runner.ports import CampaignPlan, EndedAttempt
from dialer.runner.service import hand_on, open_ticker, pace_slice
from dialer.runner.tick import CampaignTicker, TickConfig
from tests.dialer.runner.test_runner_tick import CID, QUEUE, FixedPacer, setup
from tests.support.clock import FakeClock

PREDICTIVE = CampaignPlan(CID, "c", True, Mode.PREDICTIVE, "cc_c", "campaign", QUEUE)


def _ended_hour(store: MemoryCampaignStore, clock: FakeClock, calls: int) -> None:
    """``calls`` attempts ended over the last hour, one every 3600/calls s: the older half
    unanswered, the newer half answered and handled (90 s talk)."""
    now = clock.now()
    step = 3_600 / calls
    for i in range(calls):
        ended = now - timedelta(seconds=3_600 - (i + 1) * step)
        start = ended - timedelta(seconds=100)
        if i < calls // 2:
            row = EndedAttempt(i + 1, "no_answer", False, start, ended, call_uuid=f"u{i}")
        else:
            answered, connected = start + timedelta(seconds=9), start + timedelta(seconds=10)
            row = EndedAttempt(
                i + 1, "connected", False, start, ended, answered, connected, "a0", f"u{i}"
            )
        store.ended.append((CID, row))


def test_a_campaign_dialling_over_500_calls_an_hour_relearns_from_the_newest() -> None:
    deps, store, _, leases, clock = setup()
    _ended_hour(store, clock, 1_000)  # 1,000 calls an hour: the newest 500 all answered
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    pacer = FixedPacer(0)
    CampaignTicker(lease, pacer, deps)
    assert len(pacer.observed) == 500 + 500  # the newest 500 attempts: answer + handled each
    assert {o.kind for o in pacer.observed} == {OutcomeKind.ANSWERED, OutcomeKind.HANDLED}


def test_a_slice_hand_off_keeps_the_estimators_and_the_budget_position() -> None:
    deps, store, _, leases, clock = setup(leads=100)
    store.plans[CID] = PREDICTIVE
    _ended_hour(store, clock, 200)
    first = pace_slice(CID, "w1", None, deps, period_s=1.0, slice_s=3.0)
    assert first.lease is not None
    saved = deps.pacer_states.load(CID) if deps.pacer_states else None
    assert saved is not None
    # what the first slice learnt is in the saved state, not to be relearnt from rows
    store.ended.clear()
    ticker = open_ticker(first.lease, Mode.PREDICTIVE, deps)
    assert isinstance(ticker.pacer, PredictivePacer)
    assert ticker.pacer.answer.count == 200
    assert pacer_state(ticker.pacer) == saved["pacer"]
    # a worker that takes over after the lease lapsed restores the same state
    clock.advance(10)
    taken = leases.acquire(CID, "w2", 10_000)
    assert taken is not None and taken.token > first.lease.token
    successor = open_ticker(taken, Mode.PREDICTIVE, deps)
    assert pacer_state(successor.pacer) == saved["pacer"]


def test_a_stale_holder_cannot_overwrite_its_successors_state() -> None:
    deps, store, _, leases, clock = setup()
    store.plans[CID] = PREDICTIVE
    old = leases.acquire(CID, "w1", 1_000)
    assert old is not None
    stale = open_ticker(old, Mode.PREDICTIVE, deps)
    clock.advance(2)  # w1 stalls past its lease
    new = leases.acquire(CID, "w2", 10_000)
    assert new is not None
    _ended_hour(store, clock, 100)
    successor = open_ticker(new, Mode.PREDICTIVE, deps)
    assert hand_on(successor, deps)
    assert not hand_on(stale, deps)
    saved = deps.pacer_states.load(CID) if deps.pacer_states else None
    assert saved is not None and saved["pacer"] == pacer_state(successor.pacer)
    assert saved["pacer"] != pacer_state(stale.pacer)


def test_unusable_saved_state_is_relearnt_from_the_newest_outcomes() -> None:
    deps, store, _, leases, clock = setup()
    store.plans[CID] = PREDICTIVE
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    assert isinstance(deps.pacer_states, MemoryPacerStates)
    deps.pacer_states.saved[CID] = (lease.token, '{"version": 999, "pacer": {}}')
    _ended_hour(store, clock, 1_000)
    ticker = open_ticker(lease, Mode.PREDICTIVE, deps)
    assert isinstance(ticker.pacer, PredictivePacer)
    assert ticker.pacer.answer.count == 500 and ticker.pacer.answer.value > 0.9


def test_answers_are_learnt_when_they_happen_and_handled_calls_at_hangup() -> None:
    deps, store, switch, leases, clock = setup()
    deps.config = TickConfig(lease_ttl_ms=1_000_000)
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    pacer = FixedPacer(1)
    ticker = CampaignTicker(lease, pacer, deps)
    launched = clock.now()
    assert ticker.tick() and len(switch.sent) == 1
    pacer.launch = 0
    uuid = next(iter(store.attempts))
    answered_us = int((launched + timedelta(seconds=7)).timestamp() * 1e6)
    deps.live.call_states.append(  # type: ignore[attr-defined]
        CallState(uuid, CID, answered_at_us=answered_us, queued_at_us=answered_us)
    )
    clock.advance(8)
    assert ticker.tick()
    assert [(o.kind, o.after_s) for o in pacer.observed] == [(OutcomeKind.ANSWERED, 7.0)]
    assert pacer.snapshots[-1].budget.answered_in_window == 1
    # the next slice takes over mid-call; the call hangs up there
    assert hand_on(ticker, deps)
    later = open_ticker(lease, Mode.PROGRESSIVE, deps)
    spy = FixedPacer(0)
    later.pacer = spy
    deps.live.call_states.clear()  # type: ignore[attr-defined]
    answered = launched + timedelta(seconds=7)
    row = EndedAttempt(
        1, "connected", False, launched, answered + timedelta(seconds=60), answered,
        answered + timedelta(seconds=1), "a0", uuid,
    )  # fmt: skip
    store.ended.append((CID, row))
    clock.advance(62)
    assert later.tick()
    assert [o.kind for o in spy.observed] == [OutcomeKind.HANDLED]  # the answer is not relearnt
    assert spy.snapshots[-1].budget.answered_in_window == 1


def test_a_call_in_flight_at_the_hand_off_keeps_its_ring_age() -> None:
    deps, store, _, leases, clock = setup()
    deps.config = TickConfig(lease_ttl_ms=1_000_000)
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    ticker = CampaignTicker(lease, FixedPacer(1), deps)
    assert ticker.tick()
    uuid = next(iter(store.attempts))
    deps.live.call_states.append(CallState(uuid, CID))  # type: ignore[attr-defined]
    assert hand_on(ticker, deps)
    clock.advance(6)
    later = open_ticker(lease, Mode.PROGRESSIVE, deps)
    spy = FixedPacer(0)
    later.pacer = spy
    assert later.tick()
    assert [(c.call_id, c.age_s) for c in spy.snapshots[-1].calls] == [(uuid, 6.0)]


def test_a_state_saved_long_ago_keeps_its_estimators_but_not_its_calls() -> None:
    deps, store, _, leases, clock = setup()
    deps.config = TickConfig(lease_ttl_ms=10**9)
    store.plans[CID] = PREDICTIVE
    _ended_hour(store, clock, 100)
    lease = leases.acquire(CID, "w1", 10**9)
    assert lease is not None
    ticker = open_ticker(lease, Mode.PREDICTIVE, deps)
    ticker.pacer = FixedPacer(1)  # type: ignore[assignment]
    assert ticker.tick()
    uuid = next(iter(store.attempts))
    answered_us = int((clock.now() + timedelta(seconds=5)).timestamp() * 1e6)
    deps.live.call_states.append(  # type: ignore[attr-defined]
        CallState(uuid, CID, answered_at_us=answered_us)
    )
    clock.advance(6)
    ticker.pacer = PredictivePacer()
    assert ticker.tick()
    assert ticker.feed.answered == 50 + 1  # the rows' answers and the one learnt live
    assert hand_on(ticker, deps)
    # paused overnight: the call ended long ago (its row aged out of the feed's hour)
    deps.live.call_states.clear()  # type: ignore[attr-defined]
    store.ended.clear()
    clock.advance(12 * 3_600)
    later = open_ticker(lease, Mode.PREDICTIVE, deps)
    assert isinstance(later.pacer, PredictivePacer) and later.pacer.answer.count == 1
    assert later.feed.answered == 0 and later.in_flight.launched_s == {}
    assert later.tick() and later.feed.answered == 0


@settings(max_examples=50, deadline=None)
@given(
    feed_since_s=st.floats(0, 2e9),
    seen=st.dictionaries(st.integers(1, 10**9), st.floats(0, 2e9), max_size=20),
    learnt=st.sets(st.uuids().map(str), max_size=10),
    launched=st.dictionaries(st.uuids().map(str), st.floats(0, 2e9), max_size=10),
)
def test_the_carried_state_round_trips_through_json(
    feed_since_s: float, seen: dict[int, float], learnt: set[str], launched: dict[str, float]
) -> None:
    pacer = PredictivePacer()
    carried = Carried(pacer_state(pacer), feed_since_s, seen, learnt, launched, set(launched))
    back = Carried.from_dict(json.loads(json.dumps(carried.to_dict())))
    assert back == carried
    restored, rest = resume(Mode.PREDICTIVE, carried.to_dict())
    assert rest == carried and pacer_state(restored) == carried.pacer
    fresh, none = resume(Mode.PREDICTIVE, {**carried.to_dict(), "version": 2})
    assert none is None and pacer_state(fresh) == pacer_state(PredictivePacer())
    assert resume(Mode.PROGRESSIVE, carried.to_dict())[1] is None  # the mode changed
