"""In-memory twins of the CDR context's ports; ``tests/contracts/test_contract_cdr_store.py``
holds the store to the SQL adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.cdr.billing import Charge, CostLine, charge_of
from dialer.cdr.parse import CdrFacts
from dialer.routing.ratedeck import RateDeck, RateEntry


@dataclass
class MemoryCdrStore:
    """In-memory `CdrStore`: ``xml`` keeps what was stored, by leg uuid."""

    facts: dict[str, CdrFacts] = field(default_factory=dict)
    xml: dict[str, str] = field(default_factory=dict)
    lines: dict[str, CostLine] = field(default_factory=dict)

    def add(
        self, facts: CdrFacts, xml_text: str, received_at: datetime, charge: Charge | None = None
    ) -> bool:
        if facts.call_uuid in self.facts:
            return False
        self.facts[facts.call_uuid] = facts
        self.xml[facts.call_uuid] = xml_text
        self.lines[facts.call_uuid] = charge_of(facts, received_at, charge)
        return True

    def get(self, call_uuid: str) -> CdrFacts | None:
        return self.facts.get(call_uuid)

    def cost_lines(self, since: datetime, until: datetime) -> list[CostLine]:
        lines = [x for x in self.lines.values() if since <= x.started_at < until]
        return sorted(lines, key=lambda x: (x.started_at, x.call_uuid))


@dataclass
class MemoryRates:
    """`RateLookup` over decks by trunk name, keyed by the CDR's dialled number as is."""

    decks: dict[str, RateDeck] = field(default_factory=dict)

    def rate(self, facts: CdrFacts) -> RateEntry | None:
        deck = self.decks.get(facts.trunk)
        return deck.lookup(facts.dialed_number.lstrip("+")) if deck else None
