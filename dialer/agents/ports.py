"""The seam of the agents context: where agents are kept (`AgentStore`) and the plain data
that crosses it.

The database is the truth about agents; each node's mod_callcenter is made to match it
(`dialer.agents.service`). `dialer.agents.fakes.MemoryAgentStore` is the in-memory store,
`dialer.agents.adapters.SqlAgentStore` the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Tier:
    """An agent's place in a queue: mod_callcenter offers calls by ``level``, then
    ``position`` (both >= 0, lower first)."""

    queue: str
    level: int = 1
    position: int = 1


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent as the database holds it: ``contact`` is the dial string of its phone;
    ``tiers`` has at most one tier per queue, sorted by queue."""

    name: str
    contact: str
    tiers: tuple[Tier, ...] = ()

    def tier(self, queue: str) -> Tier | None:
        return next((t for t in self.tiers if t.queue == queue), None)

    def with_tiers(self, tiers: tuple[Tier, ...]) -> AgentRecord:
        """The same agent with ``tiers`` (one per queue: the last one given wins)."""
        by_queue = {t.queue: t for t in tiers}
        return AgentRecord(self.name, self.contact, tuple(by_queue[q] for q in sorted(by_queue)))


class AgentStore(Protocol):
    """Agents with their tiers, each written whole."""

    def get(self, name: str) -> AgentRecord | None: ...

    def all(self) -> list[AgentRecord]:
        """Every agent, by name."""
        ...

    def put(self, record: AgentRecord) -> None:
        """Insert the agent, or replace it and its tiers whole."""
        ...

    def remove(self, name: str) -> bool:
        """Delete the agent and its tiers; False when there was none."""
        ...
