"""The ``Pacer`` protocol and the simple modes: preview and progressive (1:1 or fixed ratio)."""

from __future__ import annotations

from typing import Protocol

from dialer.pacing.capacity import free_capacity, progressive_launches
from dialer.pacing.model import AgentPhase, Assignment, Decision, Mode, Outcome, Snapshot


class Pacer(Protocol):
    """What every harness drives: one ``decide`` per tick, ``observe`` per outcome."""

    @property
    def mode(self) -> Mode: ...

    def decide(self, snapshot: Snapshot) -> Decision: ...

    def observe(self, outcome: Outcome) -> None: ...


class ProgressivePacer:
    """Keeps ``ratio`` lines not yet connected per READY agent (ratio 1 = progressive 1:1)."""

    mode = Mode.PROGRESSIVE

    def __init__(self, ratio: float = 1.0) -> None:
        if ratio <= 0:
            raise ValueError("ratio must be positive")
        self.ratio = ratio

    def decide(self, snapshot: Snapshot) -> Decision:
        return Decision(launch=progressive_launches(snapshot, self.ratio))

    def observe(self, outcome: Outcome) -> None:
        """Nothing to learn."""


class PreviewPacer:
    """Gives each READY agent the next due lead; the agent's call is reserved to that agent.

    Agents are served longest-ready first (ties by id), leads in ``due_lead_ids`` order.
    """

    mode = Mode.PREVIEW

    def decide(self, snapshot: Snapshot) -> Decision:
        ready = sorted(
            (a for a in snapshot.agents if a.phase is AgentPhase.READY),
            key=lambda a: (-a.in_phase_s, a.agent_id),
        )
        count = min(len(ready), len(snapshot.due_lead_ids), free_capacity(snapshot))
        pairs = tuple(
            Assignment(agent.agent_id, lead)
            for agent, lead in zip(ready[:count], snapshot.due_lead_ids[:count], strict=True)
        )
        return Decision(launch=len(pairs), assignments=pairs)

    def observe(self, outcome: Outcome) -> None:
        """Nothing to learn."""
