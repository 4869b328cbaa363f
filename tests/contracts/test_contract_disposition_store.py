"""The `DispositionStore` contract (`dialer.postcall.ports`): `MemoryDispositions` and
`SqlDispositionStore` on SQLite and PostgreSQL. The facts a decision sees, what a disposition
stores, unknown calls, refused decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.db.base import transaction
from dialer.postcall.adapters import SqlDispositionStore
from dialer.postcall.dispositions import (
    AttemptFacts,
    Disposition,
    DispositionError,
    DispositionRequest,
    LeadChange,
)
from dialer.postcall.fakes import MemoryDispositions
from dialer.postcall.ports import DispositionStore
from tests.conftest import Backend, seed_running_campaign

PORT = "disposition_store"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
DONE = LeadChange(LeadStatus.DONE, None, add_dnc=False)


class Harness(Protocol):
    """One lead, pending, and its attempts."""

    store: DispositionStore

    def attempt(self, call_uuid: str, outcome: str | None = "no_answer") -> None:
        """The lead's newest attempt (``outcome`` None: still in progress)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryDispositions()
        self.store: DispositionStore = self.memory

    def attempt(self, call_uuid: str, outcome: str | None = "no_answer") -> None:
        facts = self.memory.facts
        for uuid, earlier in facts.items():
            facts[uuid] = replace(earlier, latest_call_uuid=call_uuid)
        facts[call_uuid] = AttemptFacts(call_uuid, outcome, None, LeadStatus.PENDING, call_uuid)


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(sessions, 1, {})
        self.store: DispositionStore = SqlDispositionStore(sessions)

    def attempt(self, call_uuid: str, outcome: str | None = "no_answer") -> None:
        with transaction(self.sessions) as session:
            lead = session.scalars(select(Lead)).one()
            session.add(
                CallAttempt(
                    call_uuid=call_uuid,
                    lead_id=lead.id,
                    campaign_id=self.campaign_id,
                    dialed_number=lead.phone_e164,
                    outcome=outcome,
                    originated_at=T0,
                    ended_at=None if outcome is None else T0 + timedelta(seconds=30),
                )
            )


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def request(call_uuid: str, code: Disposition = Disposition.SALE) -> DispositionRequest:
    return DispositionRequest(call_uuid, code)


def facts_of(store: DispositionStore, call_uuid: str) -> AttemptFacts:
    """What a decision on ``call_uuid`` sees (the decision then refuses: nothing stored)."""
    seen: list[AttemptFacts] = []

    def look(facts: AttemptFacts) -> LeadChange:
        seen.append(facts)
        raise DispositionError("only looking")

    with pytest.raises(DispositionError, match="only looking"):
        store.dispose(request(call_uuid), look, T0)
    [facts] = seen
    return facts


def test_an_unknown_call_is_refused_before_any_decision(h: Harness) -> None:
    h.attempt("u-1")
    decided: list[AttemptFacts] = []

    def decide(facts: AttemptFacts) -> LeadChange:
        decided.append(facts)
        return DONE

    with pytest.raises(DispositionError, match="no call with uuid u-9"):
        h.store.dispose(request("u-9"), decide, T0)
    assert decided == []


def test_the_decision_sees_the_attempt_and_its_lead(h: Harness) -> None:
    h.attempt("u-1", outcome="busy")
    h.attempt("u-2", outcome=None)
    assert facts_of(h.store, "u-1") == AttemptFacts("u-1", "busy", None, LeadStatus.PENDING, "u-2")
    assert facts_of(h.store, "u-2") == AttemptFacts("u-2", None, None, LeadStatus.PENDING, "u-2")


def test_a_disposition_is_stored_with_the_decided_lead_status(h: Harness) -> None:
    h.attempt("u-1")
    h.attempt("u-2")
    callback = LeadChange(LeadStatus.PENDING, T0 + timedelta(days=1), add_dnc=False)
    at_callback = request("u-2", Disposition.CALLBACK)
    assert h.store.dispose(at_callback, lambda facts: callback, T0) == callback
    assert facts_of(h.store, "u-2") == AttemptFacts(
        "u-2", "no_answer", "callback", LeadStatus.PENDING, "u-2"
    )
    done = h.store.dispose(request("u-2"), lambda facts: DONE, T0)
    assert done == DONE
    assert facts_of(h.store, "u-2").disposition == "sale"
    # the lead is one: its other attempts see its new status too
    assert facts_of(h.store, "u-1") == AttemptFacts(
        "u-1", "no_answer", None, LeadStatus.DONE, "u-2"
    )


def test_a_refused_decision_stores_nothing(h: Harness) -> None:
    h.attempt("u-1")

    def refuse(facts: AttemptFacts) -> LeadChange:
        raise DispositionError(f"call {facts.call_uuid} refused")

    with pytest.raises(DispositionError, match="call u-1 refused"):
        h.store.dispose(request("u-1"), refuse, T0)
    assert facts_of(h.store, "u-1") == AttemptFacts(
        "u-1", "no_answer", None, LeadStatus.PENDING, "u-1"
    )
