"""Predictive mode, estimators, budget and risk arithmetic."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    BudgetPolicy,
    BudgetTrack,
    CallStage,
    CallView,
    Outcome,
    OutcomeKind,
    PredictiveConfig,
    PredictivePacer,
    ProgressivePacer,
    Snapshot,
    boldness,
    phase_from_callcenter,
    planned_rate,
)
from dialer.pacing.estimators import AnswerRate, DecayingHistogram
from dialer.pacing.risk import expected_excess, marginal_launches

AMPLE = AbandonBudget(target=0.03, answered_in_window=10_000, abandoned_in_window=0)


def _trained(
    answer_p: float = 0.3, seed: int = 5, config: PredictiveConfig | None = None
) -> PredictivePacer:
    rng = random.Random(seed)
    pacer = PredictivePacer(config)
    for _ in range(2_000):
        if rng.random() < answer_p:
            pacer.observe(Outcome(OutcomeKind.ANSWERED, after_s=rng.uniform(4, 20)))
        else:
            pacer.observe(Outcome(OutcomeKind.NO_ANSWER, after_s=25))
    for _ in range(500):
        pacer.observe(
            Outcome(OutcomeKind.HANDLED, talk_s=rng.lognormvariate(4.67, 0.47), wrap_s=10)
        )
    return pacer


def _agents(phase: AgentPhase, count: int, age_s: float) -> tuple[AgentView, ...]:
    return tuple(AgentView(f"{phase.value}{i}", phase, age_s) for i in range(count))


def _learn_rise(rate: AnswerRate, rise_at_s: float, seed: int, per_s: float = 0.5) -> float:
    """Seconds after a rise 20% -> 50% until the estimate is within 0.05 of 0.5."""
    rng = random.Random(seed)
    t = 0.0
    while True:
        t += 1.0 / per_s
        rate.add(rng.random() < (0.2 if t < rise_at_s else 0.5), t)
        if t > rise_at_s and abs(rate.value - 0.5) < 0.05:
            return t - rise_at_s


def test_answer_rate_learns_a_rise_within_minutes() -> None:
    # 0.5 outcomes/s (a 20-agent team dialling less once more people answer); median of 5
    seeds = range(1, 6)
    with_cusum = sorted(_learn_rise(AnswerRate(1_800.0), 3_600.0, seed) for seed in seeds)
    assert with_cusum[2] < 240.0
    # without the change detection the half-life alone takes most of an hour
    without = sorted(
        _learn_rise(AnswerRate(1_800.0, cusum_h=1e9, cusum_h_up=1e9), 3_600.0, s) for s in seeds
    )
    assert without[2] > 1_200.0


def _batches(rate: AnswerRate, launches: int) -> AnswerRate:
    """Every 40 s, 150 calls launched at once at 15 %: their answers come 4-20 s later, the
    unanswered ones all together at the 25-s timeout (as a large team's launches do)."""
    rng = random.Random(11)
    for batch in range(launches):
        start = batch * 40.0
        rings = [rng.uniform(4, 20) if rng.random() < 0.15 else 25.0 for _ in range(150)]
        for ring_s in sorted(rings):
            rate.add(ring_s < 25.0, start + ring_s, ring_s)
    return rate


def test_answer_rate_watches_launch_cohorts_not_the_order_outcomes_arrive_in() -> None:
    assert _batches(AnswerRate(1_800.0), 200).changes == 0
    assert _batches(AnswerRate(1_800.0), 200).value == pytest.approx(0.15, abs=0.03)
    # watched in arrival order, each batch reads as a run of answers then of no-answers
    assert _batches(AnswerRate(1_800.0, settle_s=-1e9), 200).changes > 5


def test_answer_rate_forgets_by_seconds_not_outcomes() -> None:
    few, many = AnswerRate(600.0, arm_after=10**9), AnswerRate(600.0, arm_after=10**9)
    for rate, per_s in ((few, 0.1), (many, 1.0)):
        t = 0.0
        while t < 3_600.0:
            t += 1.0 / per_s
            rate.add(False, t)
        rate.add(True, t + 600.0)  # one answer a half-life later weighs half the past
    assert few.weight == pytest.approx(0.1 * 600 / math.log(2) / 2 + 1, rel=0.15)
    assert many.weight == pytest.approx(1.0 * 600 / math.log(2) / 2 + 1, rel=0.05)


def test_estimates_do_not_depend_on_the_clock_origin() -> None:
    early, late = AnswerRate(1_800.0), AnswerRate(1_800.0)
    for i in range(500):
        early.add(i % 4 == 0, float(i))
        late.add(i % 4 == 0, 1.7e9 + i)
    assert early.value == pytest.approx(late.value, rel=1e-9)


def test_histogram_forgets_by_seconds() -> None:
    hist = DecayingHistogram(max_s=50, half_life_s=100.0)
    hist.add(10.0, 0.0)
    hist.add(20.0, 100.0)  # the first observation now weighs half
    cdf = hist.cdf()
    assert cdf[11] == pytest.approx(1 / 3)
    assert hist.mean_s() == pytest.approx((10 * 0.5 + 20) / 1.5)
    for i in range(3_000):
        hist.add(float(10 + i % 2), 100.0 + i)
    assert hist.cdf()[-1] == pytest.approx(1.0)
    assert hist.mean_s() == pytest.approx(10.5, abs=0.3)


def test_expected_excess_matches_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    for mean, sd in ((-1.0, 2.0), (0.5, 1.0), (3.0, 0.5)):
        draws = rng.normal(mean, sd, 400_000)
        formula = expected_excess(np.array([mean]), np.array([sd * sd]))[0]
        assert formula == pytest.approx(np.maximum(draws, 0).mean(), abs=0.01)
    assert expected_excess(np.array([-2.0, 3.0]), np.zeros(2)).tolist() == [0.0, 3.0]


def test_marginal_launches_grow_with_allowed_risk() -> None:
    gap_mean = np.linspace(-14.0, -9.0, 29)
    gap_var = np.full(29, 2.0)
    new_call = 0.3 * np.clip((np.arange(29) - 4) / 16, 0, 1)
    launches = [
        marginal_launches(gap_mean, gap_var, new_call, 500, r)[0] for r in (0.001, 0.01, 0.1)
    ]
    assert launches[0] < launches[1] < launches[2] < 500
    assert marginal_launches(gap_mean, gap_var, new_call, 0, 1.0) == (0, 0.0)


def _track(*samples: tuple[float, int, int]) -> BudgetTrack:
    track = BudgetTrack(BudgetPolicy())
    for at_s, answered, abandoned in samples:
        track.record(
            at_s, AbandonBudget(answered_in_window=answered, abandoned_in_window=abandoned)
        )
    return track


def test_plan_never_spends_the_slack_of_quiet_days() -> None:
    # 30 days at 1 %: the plan for today is the target, not the slack
    history = AbandonBudget(
        window_s=30 * 86_400.0, answered_in_window=120_000, abandoned_in_window=1_200
    )
    assert planned_rate(_track(), 0.0, history) == pytest.approx(0.03)
    assert boldness(_track(), 0.0, history) == pytest.approx(1.0)
    # 30 days at 2.9 %: a new day still starts at nominal boldness, not progressive
    hot = AbandonBudget(
        window_s=30 * 86_400.0, answered_in_window=120_000, abandoned_in_window=3_480
    )
    assert boldness(_track(), 0.0, hot) == pytest.approx(1.0)


def test_plan_spreads_an_overspend_over_the_answers_to_come() -> None:
    over = AbandonBudget(answered_in_window=1_000, abandoned_in_window=40)
    # 1,000 answers expected again: 60 allowed in all, 20 of them left for those 1,000
    assert planned_rate(_track(), 0.0, over) == pytest.approx(0.02)
    # with the horizon known: 1 h left at the last hour's 500 answers/h
    known = AbandonBudget(answered_in_window=1_000, abandoned_in_window=40, plan_left_s=3_600.0)
    track = _track((0.0, 500, 25))
    assert planned_rate(track, 3_600.0, known) == pytest.approx((0.03 * 1_500 - 40) / 500)
    spent = AbandonBudget(answered_in_window=1_000, abandoned_in_window=61)
    assert boldness(_track(), 0.0, spent) == 0.0


def test_guard_stops_a_burst_in_a_short_window() -> None:
    # the legal window is ample, but 12 of the last 30 minutes' 200 answers were abandoned
    before = (0.0, 100_000, 0)
    track = _track(before, (600.0, 100_000, 0))
    burst = AbandonBudget(answered_in_window=100_200, abandoned_in_window=12)
    assert boldness(track, 2_400.0, burst) == 0.0
    calm = AbandonBudget(answered_in_window=100_200, abandoned_in_window=4)
    assert boldness(track, 2_400.0, calm) > 1.0
    # once the burst is more than 30 minutes old the guard lets go
    later = _track(before, (600.0, 100_000, 0), (2_400.0, 100_200, 12))
    after = AbandonBudget(answered_in_window=102_200, abandoned_in_window=12)
    assert boldness(later, 4_300.0, after) > 0.0


def test_share_steers_by_recent_abandons_against_the_plan() -> None:
    track = _track((0.0, 0, 0))
    under = AbandonBudget(answered_in_window=2_000, abandoned_in_window=10)  # 0.5 %
    nominal = AbandonBudget(answered_in_window=2_000, abandoned_in_window=48)  # 2.4 %
    assert boldness(track, 3_600.0, under) > 2.5
    assert boldness(track, 3_600.0, nominal) == pytest.approx(1.0, abs=0.05)


def test_predictive_looks_ahead_at_agents_finishing_wrap_up() -> None:
    pacer = _trained()
    snapshot = Snapshot(agents=_agents(AgentPhase.WRAP_UP, 10, 9.0), calls=(), budget=AMPLE)
    assert ProgressivePacer().decide(snapshot).launch == 0
    launch = pacer.decide(snapshot).launch
    # Ten agents free within a second, answers need 4-20 s: about 10 / 0.3 calls make sense.
    assert 15 <= launch <= 45


def test_predictive_counts_calls_already_ringing() -> None:
    pacer = _trained()
    agents = _agents(AgentPhase.READY, 10, 0.0)
    quiet = pacer.decide(Snapshot(agents=agents, calls=(), budget=AMPLE)).launch
    ringing = tuple(CallView(f"c{i}", CallStage.RINGING, 2.0) for i in range(20))
    busy = pacer.decide(Snapshot(agents=agents, calls=ringing, budget=AMPLE)).launch
    assert busy < quiet


def test_predictive_falls_back_to_progressive_when_budget_is_thin() -> None:
    pacer = _trained()
    agents = _agents(AgentPhase.READY, 5, 0.0) + _agents(AgentPhase.TALKING, 20, 100.0)
    thin = AbandonBudget(target=0.03, answered_in_window=1_000, abandoned_in_window=61)
    snapshot = Snapshot(agents=agents, calls=(), budget=thin)
    assert pacer.decide(snapshot).launch == ProgressivePacer().decide(snapshot).launch == 5
    bold = pacer.decide(Snapshot(agents=agents, calls=(), budget=AMPLE)).launch
    assert bold > 5


def test_predictive_from_the_first_tick_but_cautious() -> None:
    agents = _agents(AgentPhase.READY, 3, 0.0) + _agents(AgentPhase.WRAP_UP, 10, 9.0)
    snapshot = Snapshot(agents=agents, calls=(), budget=AbandonBudget())
    free = PredictiveConfig(budget=BudgetPolicy(hold_running_rate=False))
    fresh = PredictivePacer(free)
    first = fresh.decide(snapshot).launch
    assert first > ProgressivePacer().decide(snapshot).launch == 3
    assert first < _trained(0.5, config=free).decide(snapshot).launch
    assert fresh.confidence() < 0.5 < _trained().confidence()


def test_an_empty_window_is_dialled_cautiously_while_the_safety_stop_could_fire() -> None:
    # one abandon among fewer than 34 answers would pause the campaign (docs/runner.md): an
    # abandon and a half are kept in reserve for calls in flight
    agents = _agents(AgentPhase.READY, 3, 0.0) + _agents(AgentPhase.WRAP_UP, 10, 9.0)
    launches = []
    for answered in (40, 80, 200):
        budget = AbandonBudget(answered_in_window=answered)
        snapshot = Snapshot(agents=agents, calls=(), budget=budget)
        launches.append(_trained(0.5).decide(snapshot).launch)
    assert launches[0] == 3 < launches[1] < launches[2]


@pytest.mark.parametrize(
    ("status", "state", "to_ready", "phase"),
    [
        ("Available", "Waiting", 0.0, AgentPhase.READY),
        ("Available (On Demand)", "Waiting", -3.0, AgentPhase.READY),
        ("Available", "Waiting", 4.0, AgentPhase.WRAP_UP),
        ("Available", "In a queue call", 0.0, AgentPhase.TALKING),
        ("Available", "Receiving", 0.0, AgentPhase.OFFERED),
        ("Available", "Idle", 0.0, AgentPhase.AWAY),
        ("On Break", "Waiting", 0.0, AgentPhase.AWAY),
        ("Logged Out", "Waiting", 0.0, AgentPhase.AWAY),
    ],
)
def test_phase_from_callcenter(status: str, state: str, to_ready: float, phase: AgentPhase) -> None:
    assert phase_from_callcenter(status, state, to_ready) is phase
