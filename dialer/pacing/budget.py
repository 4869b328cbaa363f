"""The abandon budget as a plan, with a short-window guard: how boldly to dial now.

Counts come from the snapshot's `AbandonBudget` (answered by a person ``A`` and abandoned
``B`` in the legal window so far); the pacer samples them every ``sample_s`` seconds of
snapshot time (`BudgetTrack`), so it also knows what happened in the last minutes.

* **Plan**: the abandons still allowed, ``target * (A + E) - B``, are spread over the ``E``
  answered calls expected in the rest of the planning horizon (``plan_left_s`` of the budget
  times the recent answer throughput; ``max(A, plan_min_answers)`` when the horizon is not
  given or the throughput not yet known). The planned rate for what is left is that share,
  but never above ``plan_max_share * target``: slack from quiet days is insurance, not
  licence (a rolling 30-day window keeps today's abandons for 30 days).
* **Steering**: boldness is ``(hard_share - s) / (hard_share - soft_share)`` where ``s`` is
  the recent abandon rate (last ``share_window_s``, with ``share_prior_answers`` answers at
  ``soft_share`` of the plan as a prior) over the planned rate: 1 at ``soft_share``, 0 at
  ``hard_share``, up to ``max_boldness`` while the plan is underused (a small team, whose
  marginal risk turns into fewer abandons, may dial harder).
* **Guard**: in the last ``guard_window_s`` the abandons must stay under ``guard_target`` of
  the answers (counted as at least ``guard_min_answers``); boldness is scaled down to 0 over
  the last ``guard_ramp`` abandons before that limit (at least ``guard_ramp_share`` of what
  the limit allows: calls in flight still abandon after the pacer holds back), so a drift
  cannot burst.
* **Running rate** (``hold_running_rate``, on by default): the campaign's safety stop
  (docs/runner.md) pauses it when an abandon leaves the window's rate above the target, so
  boldness is also at most the abandons the window can take now, ``target * A - B``, less
  ``running_reserve`` (calls in flight abandon after the pacer held back), over
  ``running_ramp``: a window that can take fewer than ``running_reserve`` abandons (a new
  campaign's first 50 answers) is dialled progressively, one with a few more cautiously.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialer.pacing.model import AbandonBudget


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """How boldness (0 = progressive only, 1 = nominal, up to ``max_boldness``) follows the
    plan and the guard (module docstring). Times in seconds; shares and targets fractions."""

    soft_share: float = 0.8
    hard_share: float = 0.97
    max_boldness: float = 4.0
    share_window_s: float = 4 * 3_600.0
    share_prior_answers: float = 150.0
    plan_min_answers: float = 200.0
    plan_max_share: float = 1.0
    guard_window_s: float = 1_800.0
    guard_target: float = 0.05
    guard_min_answers: float = 40.0
    guard_ramp: float = 1.5
    guard_ramp_share: float = 0.3
    sample_s: float = 60.0
    hold_running_rate: bool = True
    running_reserve: float = 1.5
    running_ramp: float = 2.0


Sample = tuple[float, int, int]  # (snapshot time s, answered, abandoned) in the window


class BudgetTrack:
    """The budget's counts sampled over time; what the plan and the guard look back on."""

    def __init__(self, policy: BudgetPolicy) -> None:
        self.policy = policy
        self.samples: list[Sample] = []

    def record(self, now_s: float, budget: AbandonBudget) -> None:
        """Sample ``budget`` at ``now_s`` if ``sample_s`` passed since the last sample; a
        count that went down (a new window) starts the samples afresh."""
        answered, abandoned = budget.answered_in_window, budget.abandoned_in_window
        if self.samples:
            last_s, last_answered, last_abandoned = self.samples[-1]
            if answered < last_answered or abandoned < last_abandoned or now_s < last_s:
                self.samples.clear()
            elif now_s - last_s < self.policy.sample_s:
                return
        self.samples.append((now_s, answered, abandoned))
        keep_s = max(self.policy.share_window_s, self.policy.guard_window_s) + self.policy.sample_s
        while len(self.samples) > 1 and now_s - self.samples[1][0] >= keep_s:
            self.samples.pop(0)

    def recent(self, now_s: float, budget: AbandonBudget, window_s: float) -> Sample:
        """(seconds covered, answered, abandoned) since the oldest sample within ``window_s``."""
        for at_s, answered, abandoned in self.samples:
            if now_s - at_s <= window_s:
                return (
                    now_s - at_s,
                    budget.answered_in_window - answered,
                    budget.abandoned_in_window - abandoned,
                )
        return 0.0, 0, 0

    def to_list(self) -> list[list[float]]:
        return [[t, a, b] for t, a, b in self.samples]

    def load(self, data: list[Any]) -> None:
        self.samples = [(float(t), int(a), int(b)) for t, a, b in data]


def expected_answers_left(track: BudgetTrack, now_s: float, budget: AbandonBudget) -> float:
    """Answered calls expected in the rest of the planning horizon (at least
    ``plan_min_answers``)."""
    policy = track.policy
    span_s, answered, _ = track.recent(now_s, budget, policy.share_window_s)
    if budget.plan_left_s > 0 and span_s >= 300.0:
        expected = answered / span_s * budget.plan_left_s
    else:
        expected = float(budget.answered_in_window)
    return max(expected, policy.plan_min_answers)


def planned_rate(track: BudgetTrack, now_s: float, budget: AbandonBudget) -> float:
    """Abandon rate allowed for the answered calls still to come (may be negative)."""
    expected = expected_answers_left(track, now_s, budget)
    allowed = budget.target * (budget.answered_in_window + expected) - budget.abandoned_in_window
    return min(track.policy.plan_max_share * budget.target, allowed / expected)


def boldness(track: BudgetTrack, now_s: float, budget: AbandonBudget) -> float:
    """A factor in [0, max_boldness] (module docstring); 0 when the plan allows nothing."""
    policy = track.policy
    rate = planned_rate(track, now_s, budget)
    if rate <= 0.0:
        return 0.0
    _, answered, abandoned = track.recent(now_s, budget, policy.share_window_s)
    prior = policy.share_prior_answers
    share = (abandoned + policy.soft_share * rate * prior) / (rate * (answered + prior))
    by_share = (policy.hard_share - share) / (policy.hard_share - policy.soft_share)
    _, guard_answered, guard_abandoned = track.recent(now_s, budget, policy.guard_window_s)
    allowed = policy.guard_target * max(float(guard_answered), policy.guard_min_answers)
    ramp = max(policy.guard_ramp, policy.guard_ramp_share * allowed)
    guard = min(1.0, max(0.0, (allowed - guard_abandoned) / ramp))
    cap = policy.max_boldness
    if policy.hold_running_rate:
        headroom = budget.target * budget.answered_in_window - budget.abandoned_in_window
        cap = min(cap, (headroom - policy.running_reserve) / policy.running_ramp)
    return max(0.0, min(cap, by_share)) * guard
