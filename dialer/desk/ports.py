"""Seams of the desk context: the bus that carries an agent's events from the listeners to
the API processes (`DeskBus`), and the lead card an event is shown with (`LeadCards`).

`dialer.desk.fakes` holds the in-memory ones, `dialer.desk.adapters` the real ones (Redis
pub/sub; the database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class DeskEventKind(StrEnum):
    """``call``: mod_callcenter bridged a call to the agent (bridge-agent-start);
    ``call_end``: that bridge ended (bridge-agent-end); ``status``/``state``: the agent's
    status or state changed (agent-status-change, agent-state-change)."""

    CALL = "call"
    CALL_END = "call_end"
    STATUS = "status"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class DeskEvent:
    """One event of agent ``agent`` (``1001@default``). ``call_uuid`` is the customer leg's
    uuid (the dialer's call uuid); the dialer's ids are those exported to the agent leg
    (None: not a dialer call, e.g. an inbound one); ``value`` the new status or state;
    ``at_us`` the switch's event time (microseconds since the epoch, 0 if absent)."""

    agent: str
    kind: DeskEventKind
    call_uuid: str = ""
    attempt_id: int | None = None
    lead_id: int | None = None
    campaign_id: int | None = None
    value: str = ""
    at_us: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "kind": self.kind.value, "call_uuid": self.call_uuid,
            "attempt_id": self.attempt_id, "lead_id": self.lead_id,
            "campaign_id": self.campaign_id, "value": self.value, "at_us": self.at_us,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeskEvent:
        return cls(
            agent=str(data["agent"]), kind=DeskEventKind(data["kind"]),
            call_uuid=str(data.get("call_uuid", "")), attempt_id=data.get("attempt_id"),
            lead_id=data.get("lead_id"), campaign_id=data.get("campaign_id"),
            value=str(data.get("value", "")), at_us=int(data.get("at_us", 0)),
        )  # fmt: skip


class DeskFeed(Protocol):
    """One subscriber's events of one agent, in the order they were published."""

    async def next_event(self, timeout_s: float) -> DeskEvent | None:
        """The next event, or None when none came within ``timeout_s``."""
        ...

    def close(self) -> None:
        """Stop receiving; idempotent."""
        ...


class DeskBus(Protocol):
    """Publish an agent's events (any thread, any process); subscribe to them (an event
    loop). An event published while nobody listens is lost: a screen pop is live or
    useless (a desk opened during a call is sent that call from the live state instead)."""

    def publish(self, event: DeskEvent) -> None: ...

    async def subscribe(self, agent: str) -> DeskFeed:
        """A feed of ``agent``'s events published from now on (subscribed on return)."""
        ...


@dataclass(frozen=True, slots=True)
class EarlierAttempt:
    attempt_no: int
    originated_at: datetime
    outcome: str | None
    disposition: str | None


@dataclass(frozen=True, slots=True)
class LeadCard:
    """What the agent sees of a call: the lead's number and custom fields (``name`` is the
    custom field of that name, "" when absent), its campaign, how many times it was called
    (this call included) and what became of the earlier calls, newest first; ``agent`` is
    the agent the listener recorded for the call ("" while it has not)."""

    call_uuid: str
    attempt_id: int
    lead_id: int
    campaign: str
    number: str
    name: str
    custom_fields: dict[str, Any]
    attempts: int
    agent: str
    disposition: str | None
    earlier: tuple[EarlierAttempt, ...] = field(default_factory=tuple)


class LeadCards(Protocol):
    def by_attempt(self, attempt_id: int) -> LeadCard | None: ...

    def by_call(self, call_uuid: str) -> LeadCard | None: ...
