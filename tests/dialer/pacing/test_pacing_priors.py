"""Warm start: priors pooled from a queue's recent campaigns, else conservative defaults."""

from __future__ import annotations

import json
import random

import pytest

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    Outcome,
    OutcomeKind,
    PredictivePacer,
    ProgressivePacer,
    Snapshot,
    default_priors,
    pacer_state,
    pooled_priors,
)


def _campaign(answer_p: float, calls: int, talk_s: float, seed: int) -> PredictivePacer:
    rng = random.Random(seed)
    pacer = PredictivePacer()
    for _ in range(calls):
        if rng.random() < answer_p:
            pacer.observe(Outcome(OutcomeKind.ANSWERED, after_s=rng.uniform(4, 20)))
            pacer.observe(Outcome(OutcomeKind.HANDLED, talk_s=talk_s, wrap_s=10))
        else:
            pacer.observe(Outcome(OutcomeKind.NO_ANSWER, after_s=25))
    return pacer


def _saved(pacer: PredictivePacer) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(json.dumps(pacer_state(pacer)))
    return loaded


def test_pool_weighs_each_campaign_by_how_much_it_saw() -> None:
    big = _campaign(0.2, 3_000, 100.0, seed=1)
    small = _campaign(0.5, 300, 200.0, seed=2)
    pooled = pooled_priors([_saved(big), _saved(small)])
    assert pooled is not None
    weighted = (big.answer.yes + small.answer.yes) / (big.answer.total + small.answer.total)
    assert pooled.answer_probability == pytest.approx(weighted)
    assert pooled.answer_probability < 0.3  # the big campaign dominates
    # scaled down so that the new campaign's own outcomes soon dominate
    assert pooled.answer_weight == 400.0
    assert pooled.talk.weight == pytest.approx(100.0)


def test_pool_skips_foreign_states_and_may_be_empty() -> None:
    good = _saved(_campaign(0.3, 500, 120.0, seed=3))
    assert pooled_priors([]) is None
    assert pooled_priors([{"version": 1, "mode": "predictive"}]) is None
    assert pooled_priors([{**good, "talk": {"max_s": 7}}]) is None
    assert pooled_priors([{"version": 2, "mode": "progressive"}, good]) is not None
    assert pooled_priors([_saved(PredictivePacer())]) is not None  # defaults only: still priors


def test_a_pacer_from_pooled_priors_is_bolder_than_from_defaults() -> None:
    peers = [_saved(_campaign(0.3, 2_000, 120.0, seed=s)) for s in (4, 5)]
    pooled = pooled_priors(peers)
    warm, cold = PredictivePacer(priors=pooled), PredictivePacer(priors=default_priors())
    assert warm.answer.value == pytest.approx(0.3, abs=0.03)
    assert cold.answer.value == 0.5
    assert warm.confidence() > 0.9 > 0.5 > cold.confidence()
    agents = tuple(AgentView(f"r{i}", AgentPhase.READY, 0.0) for i in range(10)) + tuple(
        AgentView(f"t{i}", AgentPhase.TALKING, 110.0) for i in range(10)
    )
    # a window with room for an abandon (an empty one is dialled progressively)
    budget = AbandonBudget(answered_in_window=100, abandoned_in_window=1)
    snapshot = Snapshot(agents=agents, calls=(), budget=budget)
    progressive = ProgressivePacer().decide(snapshot).launch
    assert warm.decide(snapshot).launch > cold.decide(snapshot).launch > progressive
