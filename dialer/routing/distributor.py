"""Smooth weighted round-robin among equal choices, as nginx and mod_distributor share traffic.

Each pick adds every eligible member's weight to its running score, takes the highest score
(ties: the earlier member), and subtracts the total weight from the winner. Over any run of
``W = sum(weights)`` picks with a fixed member set each member is chosen exactly ``weight``
times, spread out rather than in bursts. Weight 0 is never chosen. Deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def swrr_pick(
    members: Sequence[tuple[str, int]], scores: Mapping[str, int]
) -> tuple[str | None, dict[str, int]]:
    """Choose one of ``members`` (name, weight) given running ``scores``; returns the new scores.

    Only members with weight > 0 take part; the scores of others are carried over unchanged.
    Returns ``(None, scores)`` when no member has a positive weight.
    """
    new_scores = dict(scores)
    best: str | None = None
    best_score = 0
    total = 0
    for name, weight in members:
        if weight <= 0:
            continue
        score = new_scores.get(name, 0) + weight
        new_scores[name] = score
        total += weight
        if best is None or score > best_score:
            best, best_score = name, score
    if best is None:
        return None, new_scores
    new_scores[best] = best_score - total
    return best, new_scores
