"""The `LeadCards` contract (`dialer.desk.ports`): `MemoryLeadCards` and `SqlLeadCards` on
SQLite and PostgreSQL: a call's card by attempt id and by call uuid, with the lead's number,
name and custom fields, its campaign, attempt count and earlier calls newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.models import CallAttempt, Lead
from dialer.db.base import transaction
from dialer.desk.adapters import SqlLeadCards
from dialer.desk.fakes import MemoryLeadCards
from dialer.desk.ports import EarlierAttempt, LeadCard, LeadCards
from tests.conftest import Backend, seed_running_campaign

PORT = "lead_cards"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
FIELDS = {"name": "Li Lei", "plan": "gold"}


def expected(attempt_id: int) -> LeadCard:
    return LeadCard(
        call_uuid="u2", attempt_id=attempt_id, lead_id=1, campaign="campaign",
        number="+8613800000000", name="Li Lei", custom_fields=FIELDS, attempts=2,
        agent="1001@default", disposition=None,
        earlier=(EarlierAttempt(1, T0, "no_answer", None),),
    )  # fmt: skip


@pytest.fixture
def cards(backend: Backend) -> tuple[LeadCards, int]:
    """The cards and the id of the second call's attempt."""
    if backend.is_fake:
        return MemoryLeadCards([expected(2)]), 2
    sessions = backend.sessions()
    campaign_id = seed_running_campaign(sessions, 1, {})
    with transaction(sessions) as session:
        lead = session.scalars(select(Lead)).one()
        lead.custom_fields = FIELDS
        lead.attempts = 2
        for no, outcome, agent in ((1, "no_answer", None), (2, None, "1001@default")):
            session.add(CallAttempt(
                call_uuid=f"u{no}", lead_id=lead.id, campaign_id=campaign_id, attempt_no=no,
                dialed_number=lead.phone_e164, outcome=outcome, agent=agent,
                originated_at=T0 + timedelta(minutes=10 * (no - 1)),
            ))  # fmt: skip
    with sessions() as session:
        second = session.scalars(select(CallAttempt).where(CallAttempt.call_uuid == "u2")).one()
        return SqlLeadCards(sessions), second.id


def test_a_calls_card_is_found_by_attempt_and_by_call(cards: tuple[LeadCards, int]) -> None:
    store, attempt_id = cards
    card = store.by_attempt(attempt_id)
    assert card is not None
    assert card == replace(expected(attempt_id), lead_id=card.lead_id)
    assert store.by_call("u2") == card
    assert store.by_call("nope") is None
    assert store.by_attempt(attempt_id + 1000) is None
