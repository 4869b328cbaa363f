"""Predictive mode, estimators, budget and risk arithmetic."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    BudgetPolicy,
    CallStage,
    CallView,
    Outcome,
    OutcomeKind,
    PredictivePacer,
    ProgressivePacer,
    Snapshot,
    aggressiveness,
    phase_from_callcenter,
    remaining_abandons,
)
from dialer.pacing.estimators import ForgettingHistogram, ForgettingRate
from dialer.pacing.risk import expected_excess, marginal_launches

AMPLE = AbandonBudget(target=0.03, answered_in_window=10_000, abandoned_in_window=0)


def _trained(answer_p: float = 0.3, seed: int = 5) -> PredictivePacer:
    rng = random.Random(seed)
    pacer = PredictivePacer()
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


def test_forgetting_rate_follows_a_change() -> None:
    rate = ForgettingRate(half_life=100, prior=0.5, prior_weight=5)
    for i in range(1_000):
        rate.add(i % 10 < 3)
    assert rate.value == pytest.approx(0.3, abs=0.03)
    for i in range(600):
        rate.add(i % 10 < 6)
    assert rate.value == pytest.approx(0.6, abs=0.03)


def test_histogram_cdf_and_mean_survive_rescaling() -> None:
    hist = ForgettingHistogram(max_s=50, half_life=2.0)  # weights rescale many times
    for i in range(3_000):
        hist.add(float(10 + i % 2))
    cdf = hist.cdf()
    assert cdf[10] == 0.0
    assert cdf[11] == pytest.approx(0.5, abs=0.2)
    assert cdf[-1] == pytest.approx(1.0)
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


def test_budget_thin_means_progressive() -> None:
    policy = BudgetPolicy()
    assert aggressiveness(AbandonBudget(answered_in_window=0), policy) == 0.0
    assert aggressiveness(AMPLE, policy) == policy.max_boldness
    three_quarters = AbandonBudget(target=0.03, answered_in_window=10_000, abandoned_in_window=225)
    assert aggressiveness(three_quarters, policy) == pytest.approx(1.0)
    spent = AbandonBudget(target=0.03, answered_in_window=10_000, abandoned_in_window=290)
    assert remaining_abandons(spent) == pytest.approx(10.0)
    assert aggressiveness(spent, policy) == 0.0


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
    thin = AbandonBudget(target=0.03, answered_in_window=1_000, abandoned_in_window=29)
    snapshot = Snapshot(agents=agents, calls=(), budget=thin)
    assert pacer.decide(snapshot).launch == ProgressivePacer().decide(snapshot).launch == 5
    bold = pacer.decide(Snapshot(agents=agents, calls=(), budget=AMPLE)).launch
    assert bold > 5


def test_predictive_waits_for_data_before_predicting() -> None:
    agents = _agents(AgentPhase.READY, 3, 0.0) + _agents(AgentPhase.WRAP_UP, 10, 9.0)
    snapshot = Snapshot(agents=agents, calls=(), budget=AMPLE)
    assert PredictivePacer().decide(snapshot).launch == 3


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
