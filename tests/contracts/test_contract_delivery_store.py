"""The `DeliveryStore` contract (`dialer.postcall.ports`): `MemoryDeliveries` and
`SqlDeliveryStore` on SQLite and PostgreSQL. Which attempts have a job, what a job carries,
how tries are counted; a ``campaign.paused`` delivery beside an attempt's ``call.ended``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery
from dialer.db.base import transaction
from dialer.postcall.adapters import SqlDeliveryStore
from dialer.postcall.fakes import MemoryDeliveries
from dialer.postcall.ports import DeliveryStore, PauseJob, WebhookJob
from dialer.postcall.webhooks import (
    PAUSED_EVENT,
    AttemptRecord,
    Delivered,
    GiveUp,
    RetryIn,
    TryResult,
)
from tests.conftest import Backend, seed_running_campaign

PORT = "delivery_store"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
URL = "http://crm.test/hook"


def record(attempt_id: int, campaign_id: int, lead_id: int, number: str) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=attempt_id, call_uuid=f"u-{attempt_id}", campaign_id=campaign_id,
        campaign="campaign", lead_id=lead_id, number_e164=number, attempt_no=2,
        outcome="connected", abandoned=False, originated_at=T0,
        answered_at=T0 + timedelta(seconds=8), connected_at=T0 + timedelta(seconds=9),
        ended_at=T0 + timedelta(seconds=70), agent="1001", trunk="carrier_a",
        hangup_cause="NORMAL_CLEARING", hangup_cause_q850=16, sip_status="200",
    )  # fmt: skip


class Harness(Protocol):
    store: DeliveryStore

    def ended_attempt(self, url: str | None = URL) -> AttemptRecord:
        """An ended attempt of the campaign, whose webhook is ``url``."""
        ...

    def open_attempt(self) -> int:
        """An attempt still in progress (no outcome): its id."""
        ...

    def state(self, attempt_id: int) -> str:
        """The delivery's state (``none`` before the first try)."""
        ...

    def pause_of(self, ended: AttemptRecord) -> PauseJob:
        """The ``campaign.paused`` job the store should give for ``ended``'s call, before
        any try (the memory store is given it)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryDeliveries()
        self.store: DeliveryStore = self.memory
        self.ids = 0

    def ended_attempt(self, url: str | None = URL) -> AttemptRecord:
        self.ids += 1
        ended = record(self.ids, 1, 1, "+8613800000000")
        self.memory.jobs[ended.attempt_id] = WebhookJob(ended, url)
        return ended

    def open_attempt(self) -> int:
        self.ids += 1
        return self.ids

    def state(self, attempt_id: int) -> str:
        return self.memory.state(attempt_id)

    def pause_of(self, ended: AttemptRecord) -> PauseJob:
        job = PauseJob(ended.attempt_id, ended.campaign_id, ended.campaign, URL)
        self.memory.pause_jobs[ended.call_uuid] = job
        return job


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(sessions, 1, {}, webhook_url=URL)
        self.store: DeliveryStore = SqlDeliveryStore(sessions)

    def _attempt(self, session: Session, uuid: str, **fields: object) -> CallAttempt:
        lead = session.scalars(select(Lead)).one()
        row = CallAttempt(
            call_uuid=uuid, lead_id=lead.id, campaign_id=self.campaign_id,
            dialed_number=lead.phone_e164, **fields,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    def ended_attempt(self, url: str | None = URL) -> AttemptRecord:
        with transaction(self.sessions) as session:
            campaign = session.get(Campaign, self.campaign_id)
            assert campaign is not None
            campaign.webhook_url = url
            row = self._attempt(session, "pending-uuid", originated_at=T0)
            expected = record(row.id, self.campaign_id, row.lead_id, row.dialed_number)
            row.call_uuid = expected.call_uuid
            row.attempt_no, row.outcome, row.abandoned = 2, "connected", False
            row.answered_at, row.connected_at = expected.answered_at, expected.connected_at
            row.ended_at, row.agent, row.trunk = expected.ended_at, "1001", "carrier_a"
            row.hangup_cause, row.hangup_cause_q850, row.sip_status = "NORMAL_CLEARING", 16, "200"
            return expected

    def open_attempt(self) -> int:
        with transaction(self.sessions) as session:
            return self._attempt(session, "u-open", originated_at=T0).id

    def state(self, attempt_id: int) -> str:
        with self.sessions() as session:
            row = session.scalar(
                select(WebhookDelivery).where(
                    WebhookDelivery.attempt_id == attempt_id,
                    WebhookDelivery.event == "call.ended",
                )
            )
            return "none" if row is None else row.state

    def pause_of(self, ended: AttemptRecord) -> PauseJob:
        return PauseJob(ended.attempt_id, self.campaign_id, "campaign", URL)


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def test_an_ended_attempt_is_a_job_with_its_campaigns_webhook(h: Harness) -> None:
    ended = h.ended_attempt()
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 0, False)
    assert h.state(ended.attempt_id) == "none"
    assert h.store.webhook_job(h.open_attempt()) is None
    assert h.store.webhook_job(ended.attempt_id + 1000) is None


def test_a_campaign_without_webhook_gives_a_job_without_url(h: Harness) -> None:
    ended = h.ended_attempt(url=None)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, None, 0, False)


def test_tries_are_counted_until_one_delivers(h: Harness) -> None:
    ended = h.ended_attempt()
    h.store.record_try(ended.attempt_id, URL, TryResult(None, "ConnectError"), RetryIn(2), T0)
    job = h.store.webhook_job(ended.attempt_id)
    assert job == WebhookJob(ended, URL, 1, False) and h.state(ended.attempt_id) == "retrying"
    later = T0 + timedelta(seconds=2)
    h.store.record_try(ended.attempt_id, URL, TryResult(200), Delivered(), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 2, True)
    assert h.state(ended.attempt_id) == "delivered"
    # a duplicate task's try that raced the delivery: counted, and delivered stays true
    h.store.record_try(ended.attempt_id, URL, TryResult(503), RetryIn(4), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 3, True)


def test_a_given_up_delivery_is_not_delivered(h: Harness) -> None:
    ended = h.ended_attempt()
    other = h.ended_attempt()
    h.store.record_try(ended.attempt_id, URL, TryResult(404, "gone"), GiveUp("404"), T0)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 1, False)
    assert h.state(ended.attempt_id) == "failed"
    assert h.store.webhook_job(other.attempt_id) == WebhookJob(other, URL, 0, False)
    assert h.state(other.attempt_id) == "none"


def test_the_job_names_the_campaigns_webhook_not_the_url_last_tried(h: Harness) -> None:
    ended = h.ended_attempt()
    moved = "http://crm.test/old-hook"
    h.store.record_try(ended.attempt_id, moved, TryResult(503), RetryIn(2), T0)
    job = h.store.webhook_job(ended.attempt_id)
    assert job is not None and (job.url, job.tries) == (URL, 1)


def test_a_pause_is_delivered_apart_from_the_calls_own_webhook(h: Harness) -> None:
    ended = h.ended_attempt()
    job = h.pause_of(ended)
    assert h.store.pause_job(ended.call_uuid) == job
    assert h.store.pause_job("no-such-call") is None
    h.store.record_try(ended.attempt_id, URL, TryResult(503), RetryIn(2), T0, event=PAUSED_EVENT)
    later = T0 + timedelta(seconds=2)
    h.store.record_try(ended.attempt_id, URL, TryResult(200), Delivered(), later, PAUSED_EVENT)
    assert h.store.pause_job(ended.call_uuid) == PauseJob(
        job.attempt_id, job.campaign_id, "campaign", URL, 2, True
    )
    # the call's own delivery is untouched, and has its own tries
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 0, False)
    assert h.state(ended.attempt_id) == "none"
    h.store.record_try(ended.attempt_id, URL, TryResult(200), Delivered(), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, URL, 1, True)
    assert h.store.pause_job(ended.call_uuid) == PauseJob(
        job.attempt_id, job.campaign_id, "campaign", URL, 2, True
    )
