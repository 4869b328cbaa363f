"""Seams of the CDR context: the durable CDR store.

`CdrStore` has an in-memory fake (`dialer.cdr.fakes`) and a SQL adapter (`dialer.cdr.adapters`);
its contract test is ``tests/contracts/test_contract_cdr_store.py``. Settling an attempt goes
through the listener's `dialer.listener.ports.AttemptSink`, the one writer of outcomes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dialer.cdr.parse import CdrFacts


class CdrLookup(Protocol):
    """The part of the store the listener's reconciliation reads."""

    def get(self, call_uuid: str) -> CdrFacts | None:
        """The stored CDR of a customer leg, or None."""
        ...


class CdrStore(CdrLookup, Protocol):
    """CDRs as the switch posted them, one per customer leg (its uuid), kept durably."""

    def add(self, facts: CdrFacts, xml_text: str, received_at: datetime) -> bool:
        """Store a CDR; False when one for that leg is stored already (a retried post or a
        re-imported file: the first is kept)."""
        ...
