"""Seams of the listener service: live state, attempt records, trunk capacity.

`ApiCallSink` is the API calls context's store (`dialer.apicalls`).
`LiveState`, `AttemptSink` and `SafetyStore` have an in-memory fake in
`dialer.listener.fakes` and a real adapter in `dialer.listener.adapters`. `TrunkRelease`
and `TrunkHealthFeed` are the parts of routing's stores the listener uses; routing owns
their adapters and fakes, and
`dialer.listener.fakes.MemoryTrunks` records the releases for the listener's tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.agent_state import AgentState
from dialer.calls.agent_first import AgentFirstEnd
from dialer.calls.machine import CallEnd, CallState
from dialer.calls.safety import SafetyFacts, SafetyLimits
from dialer.desk.ports import DeskEvent
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


class ApiCallSink(Protocol):
    """Where the end of an agent-first call (an API call) is recorded."""

    def record_end(self, node: str, end: AgentFirstEnd) -> None:
        """Record ``end`` on its API call (the first end recorded stands); free the call's
        trunk line when ``end`` does not name its trunk."""
        ...


class DeskPublisher(Protocol):
    """The part of `dialer.desk.ports.DeskBus` the listener uses: an agent's events (screen
    pop) to the API processes."""

    def publish(self, event: DeskEvent) -> None: ...


class TrunkRelease(Protocol):
    """The part of `dialer.routing.ports.CapacityReservations` the listener uses."""

    def release(self, trunk: str, call_uuid: str) -> bool: ...


class TrunkHealthFeed(Protocol):
    """The part of `dialer.routing.ports.TrunkHealthStore` the listener uses."""

    def record(
        self, trunk: str, trunk_failure: bool | None, now_s: float, call_uuid: str = ""
    ) -> TrunkHealth: ...


@dataclass(frozen=True, slots=True)
class SafetyView:
    """A running campaign as the abandon safety stop sees it (`dialer.calls.safety`)."""

    name: str
    limits: SafetyLimits
    facts: SafetyFacts


class SafetyStore(Protocol):
    """The campaigns' stored calls and status, for the abandon safety stop."""

    def safety_view(self, campaign_id: int, now: datetime) -> SafetyView | None:
        """The campaign's limits and the facts of its recorded calls (its window ending at
        ``now``; ``recent`` at least its run limit long when it has that many calls answered
        by a person); None when the campaign is not running or does not exist."""
        ...

    def pause(self, campaign_id: int, reason: str, at: datetime) -> bool:
        """Pause the campaign if it is running, keeping ``reason`` and ``at``; True only
        for the call that paused it."""
        ...
