"""Predictive pacing: dial so that answered calls meet agents who are just getting free.

Each decision looks ``timeout + 3`` seconds ahead. Agents free up per the estimated handle-time
law conditioned on how long they have been talking or wrapping up; ringing calls get answered
per the estimated answer probability and time-to-answer law conditioned on their ring age.
Calls are added one at a time while each added call raises the expected abandons by at most
``max_marginal_risk * p_answer * boldness``, where boldness (0 to ``max_boldness``) follows the
abandon budget; at boldness 0 the pacer is progressive. Never fewer launches than progressive
1:1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dialer.pacing.budget import BudgetPolicy, aggressiveness
from dialer.pacing.capacity import free_capacity, progressive_launches
from dialer.pacing.estimators import FloatArray, ForgettingHistogram, ForgettingRate
from dialer.pacing.model import (
    AgentPhase,
    CallStage,
    Decision,
    Mode,
    Outcome,
    OutcomeKind,
    Snapshot,
)
from dialer.pacing.risk import bernoulli_sum, conditional_done, marginal_launches


@dataclass(frozen=True, slots=True)
class PredictiveConfig:
    """Tuning of the predictive mode; half-lives count outcomes, not seconds."""

    answer_half_life: float = 600.0
    duration_half_life: float = 400.0
    prior_answer: float = 0.2
    min_outcomes: int = 50
    min_handled: int = 10
    max_marginal_risk: float = 0.025
    max_talk_s: int = 3_600
    max_wrap_s: int = 900
    max_ring_s: int = 180
    budget: BudgetPolicy = field(default_factory=BudgetPolicy)


class PredictivePacer:
    """Adaptive pacer; deterministic given the snapshots and outcomes it has been fed."""

    mode = Mode.PREDICTIVE

    def __init__(self, config: PredictiveConfig | None = None) -> None:
        self.config = config or PredictiveConfig()
        cfg = self.config
        self.answer = ForgettingRate(cfg.answer_half_life, cfg.prior_answer, 5.0)
        self.ring = ForgettingHistogram(cfg.max_ring_s, cfg.answer_half_life)
        self.talk = ForgettingHistogram(cfg.max_talk_s, cfg.duration_half_life)
        self.wrap = ForgettingHistogram(cfg.max_wrap_s, cfg.duration_half_life)

    def observe(self, outcome: Outcome) -> None:
        if outcome.kind is OutcomeKind.ANSWERED:
            self.answer.add(True)
            self.ring.add(outcome.after_s)
        elif outcome.kind in (OutcomeKind.NO_ANSWER, OutcomeKind.MACHINE):
            self.answer.add(False)
        elif outcome.kind is OutcomeKind.HANDLED:
            self.talk.add(outcome.talk_s)
            self.wrap.add(outcome.wrap_s)

    def warmed_up(self) -> bool:
        return (
            self.answer.count >= self.config.min_outcomes
            and self.ring.count > 0
            and self.talk.count >= self.config.min_handled
        )

    def decide(self, snapshot: Snapshot) -> Decision:
        floor = progressive_launches(snapshot)
        cap = free_capacity(snapshot)
        boldness = aggressiveness(snapshot.budget, self.config.budget)
        if cap <= floor or boldness <= 0.0 or not self.warmed_up():
            return Decision(launch=floor)
        p_answer = self.answer.value
        horizon = math.ceil(snapshot.no_answer_timeout_s) + 3
        ahead = np.arange(horizon + 1, dtype=np.float64)
        grace_s = max(snapshot.budget.grace_s - 0.5, 0.0)
        supply_mean, supply_var = self._supply(snapshot, horizon + math.ceil(grace_s) + 1)
        demand_mean, demand_var = self._demand(snapshot, ahead, p_answer)
        at = ahead + grace_s
        low = np.floor(at).astype(np.int64)
        frac = at - low
        s_mean = supply_mean[low] * (1 - frac) + supply_mean[low + 1] * frac
        s_var = supply_var[low] * (1 - frac) + supply_var[low + 1] * frac
        ring_cdf = self.ring.cdf()
        new_call = p_answer * ring_cdf[np.minimum(ahead.astype(np.int64), len(ring_cdf) - 1)]
        new_call = np.where(ahead < snapshot.no_answer_timeout_s, new_call, p_answer)
        launch, added = marginal_launches(
            demand_mean - s_mean,
            demand_var + s_var,
            new_call,
            cap,
            self.config.max_marginal_risk * p_answer * boldness,
        )
        if launch <= floor:
            return Decision(launch=floor)
        return Decision(launch=launch, expected_abandons=added)

    def _supply(self, snapshot: Snapshot, horizon: int) -> tuple[FloatArray, FloatArray]:
        """Agents free by t+j for j = 0..horizon: mean and variance.

        A talking agent is free once talk plus wrap-up are over; wrap-up is taken at its mean.
        """
        grid = np.arange(horizon + 1, dtype=np.float64)
        talking, wrapping, ready_phase = AgentPhase.TALKING, AgentPhase.WRAP_UP, AgentPhase.READY
        agents = snapshot.agents
        ready = sum([a.phase is ready_phase for a in agents])
        talk_ages = [a.in_phase_s for a in agents if a.phase is talking]
        wrap_ages = [a.in_phase_s for a in agents if a.phase is wrapping]
        wrap_mean_s = self.wrap.mean_s()
        parts = []
        if talk_ages:
            shifted = grid - round(wrap_mean_s)
            talk_cdf = self.talk.cdf()
            parts.append(
                conditional_done(talk_cdf, np.array(talk_ages), shifted, self.talk.mean_s())
            )
        if wrap_ages:
            parts.append(conditional_done(self.wrap.cdf(), np.array(wrap_ages), grid, wrap_mean_s))
        if not parts:
            return grid * 0.0 + ready, grid * 0.0
        mean, var = bernoulli_sum(np.concatenate(parts) if len(parts) > 1 else parts[0])
        return mean + ready, var

    def _demand(
        self, snapshot: Snapshot, ahead: FloatArray, p_answer: float
    ) -> tuple[FloatArray, FloatArray]:
        """People answered by t+k (queued now, or answering a ringing call): mean, variance."""
        ringing, timeout_s = CallStage.RINGING, snapshot.no_answer_timeout_s
        calls = snapshot.calls
        ages = [c.age_s for c in calls if c.stage is ringing and c.age_s < timeout_s]
        queued = sum([c.stage is CallStage.QUEUED for c in calls])
        ring_cdf = self.ring.cdf()
        age_arr = np.array(ages)
        last = len(ring_cdf) - 1
        start = np.minimum(age_arr.astype(np.int64), last)
        end = np.minimum(start[:, None] + ahead.astype(np.int64)[None, :], last)
        base = ring_cdf[start]
        answered = p_answer * (ring_cdf[end] - base[:, None])
        still = np.maximum(1.0 - p_answer * base, 1e-9)
        probs = np.minimum(np.maximum(answered / still[:, None], 0.0), 1.0)
        mean, var = bernoulli_sum(probs)
        return mean + queued, var
