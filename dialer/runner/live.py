"""A running campaign's live figures as the pacer sees them: agents of its queue by phase,
its calls up by stage, and the dial level. Pure.

The dial level is the campaign's lines per staffed agent: calls up (ringing, answered and
waiting for an agent, or talking) over the agents of its queue that are not away; 0 when
none is staffed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import AgentPhase
from dialer.runner.snapshot import agent_views

__all__ = ["LiveFigures", "dial_level", "live_figures"]


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """``agents_by_phase``: every phase of `AgentPhase` (0 when none is in it); calls
    ``ringing`` (not answered), ``waiting`` (answered, no agent yet), ``talking``."""

    agents_by_phase: dict[str, int]
    ringing: int
    waiting: int
    talking: int
    dial_level: float


def dial_level(lines: int, staffed: int) -> float:
    return lines / staffed if staffed > 0 else 0.0


def live_figures(
    agents: Iterable[AgentState], calls: Sequence[CallState], queue: str, now_s: float
) -> LiveFigures:
    views = agent_views(agents, queue, now_s)
    phases = Counter(v.phase for v in views)
    staffed = sum(n for phase, n in phases.items() if phase is not AgentPhase.AWAY)
    return LiveFigures(
        agents_by_phase={p.value: phases.get(p, 0) for p in AgentPhase},
        ringing=sum(1 for c in calls if not c.answered_at_us and not c.connected_at_us),
        waiting=sum(1 for c in calls if c.answered_at_us and not c.connected_at_us),
        talking=sum(1 for c in calls if c.connected_at_us),
        dial_level=dial_level(len(calls), staffed),
    )
