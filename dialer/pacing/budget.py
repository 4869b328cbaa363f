"""Abandon budget: how much of the legal limit is left and how boldly to dial because of it."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.pacing.model import AbandonBudget


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """How boldness (0 = progressive only, 1 = nominal, up to ``max_boldness``) follows the
    budget.

    ``reserve`` abandons are kept unspent; above it each ``ramp`` abandons left allow one more
    unit of boldness. Independently boldness is ``(hard_share - share) / (hard_share -
    soft_share)`` where ``share`` is the part of the window's allowance already spent: 1 at
    ``soft_share``, 0 at ``hard_share``, more while the budget is underused (a small team, whose
    marginal risk turns into fewer abandons, may then dial harder).
    """

    reserve: float = 2.0
    ramp: float = 4.0
    soft_share: float = 0.75
    hard_share: float = 0.95
    max_boldness: float = 4.0


def remaining_abandons(budget: AbandonBudget) -> float:
    """Abandons still allowed in the window at the current answered count (may be negative)."""
    return budget.target * budget.answered_in_window - budget.abandoned_in_window


def aggressiveness(budget: AbandonBudget, policy: BudgetPolicy) -> float:
    """A factor in [0, max_boldness]; 0 whenever the budget is thin."""
    left = remaining_abandons(budget)
    by_count = (left - policy.reserve) / policy.ramp
    allowed = budget.target * budget.answered_in_window
    share_used = budget.abandoned_in_window / allowed if allowed > 0 else 1.0
    by_share = (policy.hard_share - share_used) / (policy.hard_share - policy.soft_share)
    return max(0.0, min(policy.max_boldness, by_count, by_share))
