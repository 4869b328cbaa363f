"""Failover: when a trunk refuses a call, the same attempt moves to the next candidate.

A trunk "refuses" when its capacity cannot be reserved (the shared limits were reached since
the snapshot the router saw) or when the originate fails with a trunk failure (503,
GATEWAY_DOWN, ...; see :func:`dialer.routing.health.is_trunk_failure`). Callee outcomes
(busy, no answer, rejected) end the attempt: another trunk would ring the same person.
"""

from __future__ import annotations

from collections.abc import Collection

from dialer.routing.health import is_trunk_failure
from dialer.routing.router import Candidate, RouteDecision


def next_candidate(decision: RouteDecision, tried: Collection[str]) -> Candidate | None:
    """The best-ranked candidate whose trunk is not in ``tried``, or None."""
    for candidate in decision.candidates:
        if candidate.trunk not in tried:
            return candidate
    return None


def after_failure(
    decision: RouteDecision,
    tried: Collection[str],
    hangup_cause: str,
    sip_code: int | None = None,
) -> Candidate | None:
    """The candidate to try after the last of ``tried`` failed, or None when the attempt ends."""
    if not is_trunk_failure(hangup_cause, sip_code):
        return None
    return next_candidate(decision, tried)
