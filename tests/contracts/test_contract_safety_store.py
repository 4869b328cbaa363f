"""The `SafetyStore` contract (`dialer.listener.ports`): `MemorySafety` and `SqlSafetyStore`
on SQLite and PostgreSQL. The window's counts, the recent calls, who is running, pausing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import CampaignStatus
from campaigns.models import CallAttempt, Campaign, Lead
from dialer.calls.safety import SafetyLimits
from dialer.db.base import transaction
from dialer.listener.adapters import SqlSafetyStore
from dialer.listener.fakes import MemorySafety, MemorySafetyCampaign, SafetyCall
from dialer.listener.ports import SafetyStore
from tests.conftest import Backend, seed_running_campaign

PORT = "safety_store"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
LIMITS = SafetyLimits(target_pct=3.0, window_days=30, run_limit=3)


class Harness(Protocol):
    store: SafetyStore
    campaign_id: int

    def call(self, at: datetime, *, person: bool = True, abandoned: bool = False) -> None:
        """A recorded call of the campaign answered (by a person unless ``person`` is
        False: a machine), originated at ``at`` and ended a minute later."""
        ...

    def status(self) -> tuple[bool, str | None, datetime | None]:
        """Running?, the pause reason and time."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemorySafety({7: MemorySafetyCampaign("campaign", LIMITS)})
        self.store: SafetyStore = self.memory
        self.campaign_id = 7

    def call(self, at: datetime, *, person: bool = True, abandoned: bool = False) -> None:
        self.memory.calls.append(SafetyCall(self.campaign_id, at, person, abandoned))

    def status(self) -> tuple[bool, str | None, datetime | None]:
        c = self.memory.campaigns[self.campaign_id]
        return c.running, c.pause_reason, c.paused_at


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(
            sessions, 1, {}, abandon_target_pct=3.0, abandon_window_days=30, abandon_run_limit=3
        )
        with sessions() as session:
            self.lead_id = session.scalars(select(Lead.id)).one()
        self.store: SafetyStore = SqlSafetyStore(sessions)
        self.calls = 0

    def call(self, at: datetime, *, person: bool = True, abandoned: bool = False) -> None:
        self.calls += 1
        with transaction(self.sessions) as session:
            outcome = "connected" if person else "answering_machine"
            row = CallAttempt(
                call_uuid=f"u-{self.calls}", lead_id=self.lead_id,
                campaign_id=self.campaign_id, dialed_number="+8613800000000",
                originated_at=at, answered_at=at + timedelta(seconds=5),
                ended_at=at + timedelta(minutes=1),
                outcome="abandoned" if abandoned else outcome, abandoned=abandoned,
            )  # fmt: skip
            session.add(row)

    def status(self) -> tuple[bool, str | None, datetime | None]:
        with self.sessions() as session:
            c = session.get(Campaign, self.campaign_id)
            assert c is not None
            return c.status is CampaignStatus.RUNNING, c.pause_reason, c.paused_at


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def test_the_window_counts_calls_answered_by_a_person_originated_within_it(h: Harness) -> None:
    now = T0 + timedelta(days=30)
    h.call(T0 - timedelta(minutes=1), abandoned=True)  # before the window
    h.call(T0)  # at its start: in
    h.call(T0 + timedelta(days=1), abandoned=True)
    h.call(T0 + timedelta(days=2), person=False)  # a machine is no person
    view = h.store.safety_view(h.campaign_id, now)
    assert view is not None
    assert view.name == "campaign" and view.limits == LIMITS
    assert (view.facts.answered_in_window, view.facts.abandoned_in_window) == (2, 1)


def test_recent_lists_the_latest_calls_by_a_person_newest_first(h: Harness) -> None:
    for minute, abandoned in enumerate((False, True, False, True, True)):
        h.call(T0 + timedelta(minutes=minute), abandoned=abandoned)
    h.call(T0 + timedelta(minutes=9), person=False)
    view = h.store.safety_view(h.campaign_id, T0 + timedelta(hours=1))
    assert view is not None
    assert tuple(view.facts.recent[:3]) == (True, True, False)


def test_pause_stops_a_running_campaign_once_with_its_reason(h: Harness) -> None:
    assert h.store.pause(h.campaign_id, "5 answered calls in a row abandoned", T0)
    assert h.status() == (False, "5 answered calls in a row abandoned", T0)
    assert not h.store.pause(h.campaign_id, "again", T0 + timedelta(seconds=1))
    assert h.status() == (False, "5 answered calls in a row abandoned", T0)
    assert h.store.safety_view(h.campaign_id, T0) is None  # not running: nothing to check


def test_an_unknown_campaign_has_no_view_and_cannot_be_paused(h: Harness) -> None:
    assert h.store.safety_view(999, T0) is None
    assert not h.store.pause(999, "x", T0)
