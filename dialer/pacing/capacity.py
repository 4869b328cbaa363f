"""How many calls the hard limits allow right now, whatever the mode."""

from __future__ import annotations

import math

from dialer.pacing.model import AgentPhase, CallStage, Snapshot


def staffed_agents(snapshot: Snapshot) -> int:
    """Agents taking part in the campaign (every phase but AWAY)."""
    away = AgentPhase.AWAY
    return sum([a.phase is not away for a in snapshot.agents])


def ready_agents(snapshot: Snapshot) -> int:
    ready = AgentPhase.READY
    return sum([a.phase is ready for a in snapshot.agents])


def free_capacity(snapshot: Snapshot) -> int:
    """Launches allowed by lines per agent, trunk capacity, leads due and the calling window.

    Invariant: 0 <= result <= each of those limits' remaining room.
    """
    limits = snapshot.limits
    if not limits.dialing_allowed:
        return 0
    line_room = math.floor(limits.max_lines_per_agent * staffed_agents(snapshot) + 1e-9)
    line_room -= len(snapshot.calls)
    return max(0, min(line_room, limits.trunk_free_lines, limits.leads_due))


def progressive_launches(snapshot: Snapshot, ratio: float = 1.0) -> int:
    """Calls that bring lines not yet connected up to ``ratio`` per READY agent, within limits.

    With ratio 1 every answered call has a ready agent waiting for it unless an agent leaves,
    so this never abandons: it is the floor the predictive mode falls back to.
    """
    wanted = math.floor(ratio * ready_agents(snapshot) + 1e-9) - len(snapshot.calls)
    return max(0, min(wanted, free_capacity(snapshot)))


def count_stage(snapshot: Snapshot, stage: CallStage) -> int:
    return sum(1 for c in snapshot.calls if c.stage is stage)
