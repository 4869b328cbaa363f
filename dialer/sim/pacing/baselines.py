"""Comparison pacers: a VICIdial-style adaptive dial level (progressive and fixed ratio are in
``dialer.pacing.modes``)."""

from __future__ import annotations

import math

from dialer.pacing import Decision, Mode, Outcome, Snapshot, free_capacity
from dialer.pacing.capacity import count_stage, ready_agents, staffed_agents
from dialer.pacing.model import AgentPhase, CallStage

__all__ = ["VicidialPacer"]


class VicidialPacer:
    """Dial level = calls (ringing, queued or talking) per staffed agent, adapted every
    ``adjust_every_s``: halved (not below 1) while the window's drop rate is above target,
    else moved by (average ready agents - average waiting calls) / staffed agents."""

    mode = Mode.PREDICTIVE

    def __init__(
        self, tick_s: float = 1.0, adjust_every_s: float = 15.0, start_level: float = 1.0
    ) -> None:
        self.tick_s = tick_s
        self.adjust_every_s = adjust_every_s
        self.level = start_level
        self._elapsed_s = 0.0
        self._ready_sum = 0.0
        self._waiting_sum = 0.0
        self._samples = 0

    def decide(self, snapshot: Snapshot) -> Decision:
        staffed = staffed_agents(snapshot)
        self._ready_sum += ready_agents(snapshot)
        self._waiting_sum += count_stage(snapshot, CallStage.QUEUED)
        self._samples += 1
        self._elapsed_s += self.tick_s
        if self._elapsed_s >= self.adjust_every_s - 1e-9:
            self._adjust(snapshot, staffed)
        talking = sum(1 for a in snapshot.agents if a.phase is AgentPhase.TALKING)
        goal = math.floor(self.level * staffed + 1e-9) - len(snapshot.calls) - talking
        return Decision(launch=max(0, min(goal, free_capacity(snapshot))))

    def _adjust(self, snapshot: Snapshot, staffed: int) -> None:
        budget = snapshot.budget
        answered = budget.answered_in_window
        drop = budget.abandoned_in_window / answered if answered else 0.0
        if drop > budget.target:
            self.level = max(1.0, self.level / 2.0)
        elif staffed:
            surplus = (self._ready_sum - self._waiting_sum) / self._samples
            cap = snapshot.limits.max_lines_per_agent + 1.0
            self.level = min(cap, max(1.0, self.level + surplus / staffed))
        self._elapsed_s = 0.0
        self._ready_sum = self._waiting_sum = 0.0
        self._samples = 0

    def observe(self, outcome: Outcome) -> None:
        """Learns only through the snapshot's counts."""
