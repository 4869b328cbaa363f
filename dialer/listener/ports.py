"""Seams of the listener service: live state, attempt records, trunk capacity.

Each `Protocol` has an in-memory fake here and a real adapter in
`dialer.listener.adapters`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from dialer.agent_state import AgentState
from dialer.calls.machine import CallEnd, CallState
from dialer.routing.health import TrunkHealth


class LiveState(Protocol):
    """Agents and calls in flight of each node, shared with the pacer (Redis)."""

    def put_call(self, node: str, state: CallState) -> None: ...

    def drop_call(self, node: str, call_uuid: str) -> None: ...

    def calls(self, node: str) -> dict[str, CallState]: ...

    def put_agent(self, node: str, agent: AgentState) -> None:
        """Store the agent whole (the node's listener is its only writer)."""
        ...

    def drop_agent(self, node: str, name: str) -> None: ...

    def agents(self, node: str) -> dict[str, AgentState]: ...


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A CallAttempt row of a node that has no outcome yet."""

    call_uuid: str
    campaign_id: int
    lead_id: int
    attempt_id: int
    trunk: str = ""


class AttemptSink(Protocol):
    """Where ended attempts go: the CallAttempt row and the lead's next step."""

    def record(self, node: str, end: CallEnd) -> None: ...

    def unsettled(self, node: str, originated_before: datetime) -> list[Unsettled]:
        """Attempts on ``node`` originated before that time and still without outcome."""
        ...


class TrunkRelease(Protocol):
    """The part of `dialer.routing.reservation.CapacityReservations` the listener uses."""

    def release(self, trunk: str, call_uuid: str) -> bool: ...


class TrunkHealthFeed(Protocol):
    """The part of `dialer.routing.health_store.TrunkHealthStore` the listener uses."""

    def record(self, trunk: str, trunk_failure: bool, now_s: float) -> TrunkHealth: ...


def state_to_dict(state: CallState) -> dict[str, object]:
    return asdict(state)


def state_from_dict(data: dict[str, object]) -> CallState:
    return CallState(**data)  # type: ignore[arg-type]


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
    """In-memory `AttemptSink`; ``pending`` holds (node, originated at, attempt) rows."""

    ended: list[tuple[str, CallEnd]] = field(default_factory=list)
    pending: list[tuple[str, datetime, Unsettled]] = field(default_factory=list)

    def record(self, node: str, end: CallEnd) -> None:
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
