"""Predictive pacing: dial so that answered calls meet agents who are just getting free.

Each decision looks ``timeout + 3`` seconds ahead. Agents free up per the estimated handle-time
law conditioned on how long they have been talking or wrapping up; ringing calls get answered
per the estimated answer probability and time-to-answer law conditioned on their ring age.
Calls are added one at a time while each added call raises the expected abandons by at most
``max_marginal_risk * p_answer * boldness``, where boldness (0 to ``max_boldness``) follows the
abandon budget's plan and guard, shrunk while the answer estimate rests on little; at boldness
0 the pacer is progressive. Never fewer launches than progressive 1:1. It starts from priors
(`dialer.pacing.priors`) and predicts from the first tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dialer.pacing.budget import BudgetPolicy, BudgetTrack
from dialer.pacing.budget import boldness as budget_boldness
from dialer.pacing.capacity import free_capacity, progressive_launches
from dialer.pacing.estimators import AnswerRate, DecayingHistogram, FloatArray
from dialer.pacing.model import (
    AgentPhase,
    CallStage,
    Decision,
    Mode,
    Outcome,
    OutcomeKind,
    Snapshot,
)
from dialer.pacing.priors import PacerPriors, PriorLimits, default_priors
from dialer.pacing.risk import bernoulli_sum, conditional_done, marginal_launches


@dataclass(frozen=True, slots=True)
class PredictiveConfig:
    """Tuning of the predictive mode; half-lives in seconds of snapshot time.

    The answer probability (`AnswerRate`) forgets with ``answer_half_life_s`` and restarts
    when its CUSUM (``answer_cusum_k``; thresholds ``answer_cusum_h_up`` for a rise,
    ``answer_cusum_h`` for a fall) sees a change. The risk taken is
    shrunk by ``confidence``: answered calls behind the answer estimate over themselves plus
    ``confidence_answers``.
    """

    answer_half_life_s: float = 1_800.0
    answer_cusum_k: float = 0.05
    answer_cusum_h: float = 11.0
    answer_cusum_h_up: float = 9.0
    duration_half_life_s: float = 3_600.0
    confidence_answers: float = 10.0
    max_marginal_risk: float = 0.025
    priors: PriorLimits = field(default_factory=PriorLimits)
    budget: BudgetPolicy = field(default_factory=BudgetPolicy)


class PredictivePacer:
    """Adaptive pacer; deterministic given the snapshots and outcomes it has been fed.

    Its clock is the ``now_s`` of the latest snapshot: an outcome observed after it counts as
    of that moment (the simulator feeds outcomes as they happen between ticks, the live runner
    at the next tick before deciding: both stamp them alike).
    """

    mode = Mode.PREDICTIVE

    def __init__(
        self, config: PredictiveConfig | None = None, priors: PacerPriors | None = None
    ) -> None:
        self.config = config or PredictiveConfig()
        cfg = self.config
        start = priors or default_priors(cfg.priors)
        self.now_s: float | None = None
        self.answer = AnswerRate(
            cfg.answer_half_life_s, cfg.answer_cusum_k, cfg.answer_cusum_h, cfg.answer_cusum_h_up
        )
        self.answer.seed(start.answer_probability, start.answer_weight)
        self.ring = DecayingHistogram(cfg.priors.max_ring_s, cfg.duration_half_life_s)
        self.talk = DecayingHistogram(cfg.priors.max_talk_s, cfg.duration_half_life_s)
        self.wrap = DecayingHistogram(cfg.priors.max_wrap_s, cfg.duration_half_life_s)
        for histogram, law in (
            (self.ring, start.ring),
            (self.talk, start.talk),
            (self.wrap, start.wrap),
        ):
            histogram.seed(law.bins, law.sum_s)
        self.track = BudgetTrack(cfg.budget)

    def observe(self, outcome: Outcome) -> None:
        at_s = self.now_s
        if outcome.kind is OutcomeKind.ANSWERED:
            self.answer.add(True, at_s, outcome.after_s)
            self.ring.add(outcome.after_s, at_s)
        elif outcome.kind in (OutcomeKind.NO_ANSWER, OutcomeKind.MACHINE):
            self.answer.add(False, at_s, outcome.after_s)
        elif outcome.kind is OutcomeKind.HANDLED:
            self.talk.add(outcome.talk_s, at_s)
            self.wrap.add(outcome.wrap_s, at_s)

    def confidence(self) -> float:
        """In (0, 1): answered calls behind the answer estimate (priors included) over themselves
        plus ``confidence_answers``."""
        answers = self.answer.yes
        return answers / (answers + self.config.confidence_answers)

    def boldness(self, snapshot: Snapshot) -> float:
        """The budget's boldness (`dialer.pacing.budget`) shrunk by ``confidence``."""
        return budget_boldness(self.track, snapshot.now_s, snapshot.budget) * self.confidence()

    def decide(self, snapshot: Snapshot) -> Decision:
        self.now_s = snapshot.now_s
        self.track.record(snapshot.now_s, snapshot.budget)
        floor = progressive_launches(snapshot)
        cap = free_capacity(snapshot)
        bold = self.boldness(snapshot) if cap > floor else 0.0
        if bold <= 0.0:
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
            self.config.max_marginal_risk * p_answer * bold,
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
