"""In-memory twin of the CDR store; ``tests/contracts/test_contract_cdr_store.py`` holds it
to the SQL adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.cdr.parse import CdrFacts


@dataclass
class MemoryCdrStore:
    """In-memory `CdrStore`: ``xml`` keeps what was stored, by leg uuid."""

    facts: dict[str, CdrFacts] = field(default_factory=dict)
    xml: dict[str, str] = field(default_factory=dict)

    def add(self, facts: CdrFacts, xml_text: str, received_at: datetime) -> bool:
        if facts.call_uuid in self.facts:
            return False
        self.facts[facts.call_uuid] = facts
        self.xml[facts.call_uuid] = xml_text
        return True

    def get(self, call_uuid: str) -> CdrFacts | None:
        return self.facts.get(call_uuid)
