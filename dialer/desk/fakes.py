"""In-memory desk bus and lead cards for tests."""

from __future__ import annotations

from dialer.desk.fanout import Subscribers
from dialer.desk.ports import DeskEvent, DeskFeed, LeadCard

__all__ = ["MemoryDeskBus", "MemoryLeadCards"]


class MemoryDeskBus:
    """Events go straight to this process's subscribers; ``published`` keeps them all."""

    def __init__(self) -> None:
        self.published: list[DeskEvent] = []
        self._subscribers = Subscribers()

    def publish(self, event: DeskEvent) -> None:
        self.published.append(event)
        self._subscribers.deliver(event)

    async def subscribe(self, agent: str) -> DeskFeed:
        return self._subscribers.add(agent)


class MemoryLeadCards:
    def __init__(self, cards: list[LeadCard] | None = None) -> None:
        self.cards = list(cards or [])

    def by_attempt(self, attempt_id: int) -> LeadCard | None:
        return next((c for c in self.cards if c.attempt_id == attempt_id), None)

    def by_call(self, call_uuid: str) -> LeadCard | None:
        return next((c for c in self.cards if c.call_uuid == call_uuid), None)
