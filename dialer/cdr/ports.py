"""Seams of the CDR context: the durable CDR store.

`CdrStore` has an in-memory fake (`dialer.cdr.fakes`) and a SQL adapter (`dialer.cdr.adapters`);
its contract test is ``tests/contracts/test_contract_cdr_store.py``. Settling an attempt goes
through the listener's `dialer.listener.ports.AttemptSink`, the one writer of outcomes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dialer.cdr.billing import Charge, CostLine
from dialer.cdr.parse import CdrFacts
from dialer.routing.ratedeck import RateEntry


class CdrLookup(Protocol):
    """The part of the store the listener's reconciliation reads."""

    def get(self, call_uuid: str) -> CdrFacts | None:
        """The stored CDR of a customer leg, or None."""
        ...


class CdrStore(CdrLookup, Protocol):
    """CDRs as the switch posted them, one per customer leg (its uuid), kept durably."""

    def add(
        self, facts: CdrFacts, xml_text: str, received_at: datetime, charge: Charge | None = None
    ) -> bool:
        """Store a CDR with what it cost (None: not priced); False when one for that leg is
        stored already (a retried post or a re-imported file: the first is kept)."""
        ...

    def cost_lines(self, since: datetime, until: datetime) -> list[CostLine]:
        """The stored CDRs of calls started in ``[since, until)``, by start then uuid."""
        ...


class RateLookup(Protocol):
    """The rate of a call's number on its trunk (the trunk's rate deck)."""

    def rate(self, facts: CdrFacts) -> RateEntry | None:
        """The entry of the longest prefix of the dialled number's E.164 digits (the
        attempt's number for a dialer call), or None."""
        ...
