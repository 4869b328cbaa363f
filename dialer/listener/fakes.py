"""In-memory twins of the listener's seams (`dialer.listener.ports`), for unit tests; the
contract tests in ``tests/contracts/`` hold each to its real adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.agent_state import AgentState
from dialer.calls.machine import CallEnd, CallState
from dialer.listener.ports import Unsettled


@dataclass
class MemoryLiveState:
    """In-memory `LiveState`."""

    _calls: dict[str, dict[str, CallState]] = field(default_factory=dict)
    _agents: dict[str, dict[str, AgentState]] = field(default_factory=dict)

    def put_call(self, node: str, state: CallState) -> None:
        self._calls.setdefault(node, {})[state.call_uuid] = state

    def drop_call(self, node: str, call_uuid: str) -> None:
        self._calls.get(node, {}).pop(call_uuid, None)

    def calls(self, node: str) -> dict[str, CallState]:
        return dict(self._calls.get(node, {}))

    def put_agent(self, node: str, agent: AgentState) -> None:
        self._agents.setdefault(node, {})[agent.name] = agent

    def drop_agent(self, node: str, name: str) -> None:
        self._agents.get(node, {}).pop(name, None)

    def agents(self, node: str) -> dict[str, AgentState]:
        return dict(self._agents.get(node, {}))


@dataclass
class MemoryAttempts:
    """In-memory `AttemptSink`; ``pending`` holds (node, originated at, attempt) rows,
    ``ended`` the (node, end) taken: the first end of each dialer call (one with campaign and
    lead ids), as the SQL sink records it; a replayed end is ignored, an unsettled one is
    replaced by the first definitive end after it."""

    ended: list[tuple[str, CallEnd]] = field(default_factory=list)
    pending: list[tuple[str, datetime, Unsettled]] = field(default_factory=list)

    def record(self, node: str, end: CallEnd) -> None:
        if end.lead_id is None or end.campaign_id is None:
            return
        taken = [i for i, (_, e) in enumerate(self.ended) if e.call_uuid == end.call_uuid]
        if taken:
            if end.unsettled or not self.ended[taken[0]][1].unsettled:
                return
            del self.ended[taken[0]]  # an unknown attempt settled at last (its CDR)
        self.ended.append((node, end))
        self.pending = [p for p in self.pending if p[2].call_uuid != end.call_uuid]

    def unsettled(self, node: str, originated_before: datetime) -> list[Unsettled]:
        return [u for n, at, u in self.pending if n == node and at < originated_before]


@dataclass
class MemoryTrunks:
    """In-memory `TrunkRelease`: ``held`` maps call uuid -> trunk."""

    held: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def release(self, trunk: str, call_uuid: str) -> bool:
        self.released.append(call_uuid)
        return self.held.pop(call_uuid, None) == trunk
