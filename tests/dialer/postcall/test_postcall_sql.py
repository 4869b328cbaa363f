"""The post-call adapters on SQLite and PostgreSQL: the listener's notifier, dispositions in
one transaction, webhook deliveries recorded try by try (httpx over a mock transport; over
TCP in tests/contracts/test_contract_webhook_sender.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Campaign, DncEntry, Lead, WebhookDelivery
from dialer.calls.machine import CallEnd
from dialer.listener.adapters import SqlAttemptSink
from dialer.postcall.adapters import HttpxSender, SqlCallLog, SqlDispositionStore
from dialer.postcall.dispositions import Disposition, DispositionError, DispositionRequest
from dialer.postcall.service import (
    claim_due_retries,
    deliver_webhook,
    retry_delivery,
    set_disposition,
)
from dialer.postcall.wiring import post_call_deps
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
URL = "http://crm.test/hook"
SECRET = "whsec_sql-test-secret-000"


def seed(sessions: sessionmaker[Session], webhook_url: str | None = URL) -> tuple[int, int]:
    with sessions.begin() as s:
        campaign = Campaign(
            name="c1", queue_name="sales@default", webhook_url=webhook_url,
            webhook_secret=SECRET if webhook_url else None,
        )  # fmt: skip
        s.add(campaign)
        s.flush()
        lead = Lead(
            campaign_id=campaign.id, phone_e164="+8613800138000", phone_raw="13800138000",
            country="CN", number_type="mobile", status=LeadStatus.DIALING,
        )  # fmt: skip
        s.add(lead)
        s.flush()
        return campaign.id, lead.id


def end(campaign_id: int, lead_id: int, uuid: str = "u-1") -> CallEnd:
    return CallEnd(
        call_uuid=uuid, campaign_id=campaign_id, lead_id=lead_id, attempt_id=None,
        outcome=AttemptOutcome.NO_ANSWER, disposition="x", hangup_cause="NO_ANSWER",
        abandoned=False, trunk="carrier1", dialed_number="+8613800138000", ended_at=NOW,
    )  # fmt: skip


def recorded(sessions: sessionmaker[Session], uuid: str = "u-1") -> tuple[int, int, list[int]]:
    """A campaign whose lead's attempt ``uuid`` ended (no answer, retry scheduled)."""
    campaign_id, lead_id = seed(sessions)
    notified: list[int] = []
    SqlAttemptSink(sessions, clock=FakeClock(NOW), notify=notified.append).record(
        "fs1", end(campaign_id, lead_id, uuid)
    )
    return campaign_id, lead_id, notified


def test_listener_notifies_once_per_recorded_attempt(sessions: sessionmaker[Session]) -> None:
    campaign_id, lead_id, notified = recorded(sessions)
    with sessions() as s:
        attempt_id = s.scalars(select(CallAttempt.id)).one()
    assert notified == [attempt_id]

    sink = SqlAttemptSink(sessions, clock=FakeClock(NOW), notify=notified.append)
    sink.record("fs1", end(campaign_id, lead_id))  # replay: not recorded, not notified
    assert notified == [attempt_id]

    def broken(_attempt_id: int) -> None:
        raise ConnectionError("broker down")

    SqlAttemptSink(sessions, clock=FakeClock(NOW), notify=broken).record(
        "fs1", end(campaign_id, lead_id, "u-2")
    )  # the notifier fails: the row is kept, the listener goes on
    with sessions() as s:
        assert len(s.scalars(select(CallAttempt)).all()) == 2


def test_callback_disposition_moves_the_lead(sessions: sessionmaker[Session]) -> None:
    _, lead_id, _ = recorded(sessions)
    at = NOW + timedelta(days=1)
    request = DispositionRequest("u-1", Disposition.CALLBACK, at, "call after lunch")
    set_disposition(SqlDispositionStore(sessions), request, NOW)
    with sessions() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert (attempt.disposition, attempt.callback_at) == ("callback", at)
        assert attempt.disposition_note == "call after lunch"
        assert attempt.disposition_at == NOW
        lead = s.get(Lead, lead_id)
        assert lead is not None
        assert (lead.status, lead.next_attempt_at) == (LeadStatus.PENDING, at)


def test_dnc_disposition_lists_the_number_for_every_campaign(
    sessions: sessionmaker[Session],
) -> None:
    _, lead_id, _ = recorded(sessions)
    with sessions.begin() as s:
        other = Campaign(name="c2", queue_name="sales@default")
        s.add(other)
        s.flush()
        s.add(
            Lead(
                campaign_id=other.id, phone_e164="+8613800138000", phone_raw="13800138000",
                country="CN", number_type="mobile",
            )
        )  # fmt: skip
    set_disposition(SqlDispositionStore(sessions), DispositionRequest("u-1", Disposition.DNC), NOW)
    with sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None and lead.status is LeadStatus.DNC
        [entry] = s.scalars(select(DncEntry)).all()
        assert (entry.number, entry.campaign_id, entry.source, entry.reason) == (
            "+8613800138000",
            None,
            "disposition",
            "call u-1",
        )
        statuses = s.scalars(select(Lead.status).where(Lead.campaign_id == other.id)).all()
        assert statuses == [LeadStatus.DNC]


def test_refused_dispositions_change_nothing(sessions: sessionmaker[Session]) -> None:
    campaign_id, lead_id = seed(sessions)
    with sessions.begin() as s:
        s.add(CallAttempt(call_uuid="u-live", lead_id=lead_id, campaign_id=campaign_id,
                          dialed_number="+8613800138000"))  # fmt: skip
    store = SqlDispositionStore(sessions)
    with pytest.raises(DispositionError, match="u-live is still in progress"):
        set_disposition(store, DispositionRequest("u-live", Disposition.SALE), NOW)
    with pytest.raises(DispositionError, match="no call with uuid nope"):
        set_disposition(store, DispositionRequest("nope", Disposition.SALE), NOW)
    with sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None and lead.status is LeadStatus.DIALING
        assert s.scalars(select(CallAttempt.disposition)).all() == [None]


def sender(codes: list[int], seen: list[dict[str, Any]]) -> HttpxSender:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(codes[min(len(seen), len(codes)) - 1])

    return HttpxSender(httpx.MockTransport(handle))


def test_each_try_is_recorded_until_delivered(sessions: sessionmaker[Session]) -> None:
    recorded(sessions)
    with sessions() as s:
        attempt_id = s.scalars(select(CallAttempt.id)).one()
    seen: list[dict[str, Any]] = []
    clock = FakeClock(NOW)
    deps = post_call_deps(sessions, clock, sender([503, 200], seen), max_tries=6)
    first = deliver_webhook(attempt_id, deps)
    assert (first.state, first.retry_in_s) == ("retrying", 30)
    with sessions() as s:
        row = s.scalars(select(WebhookDelivery)).one()
        assert (row.state, row.tries, row.status_code) == ("retrying", 1, 503)
        assert row.next_try_at == NOW + timedelta(seconds=30) and row.delivered_at is None
    assert deliver_webhook(attempt_id, deps).state == "tried before"
    clock.advance(30)
    [claim] = claim_due_retries(deps)
    assert retry_delivery(claim.delivery_id, claim.tries, deps).state == "delivered"
    assert deliver_webhook(attempt_id, deps).state == "delivered before"
    later = NOW + timedelta(seconds=30)
    with sessions() as s:
        row = s.scalars(select(WebhookDelivery)).one()
        assert (row.state, row.tries, row.status_code, row.delivered_at) == (
            "delivered", 2, 200, later,
        )  # fmt: skip
    assert len(seen) == 2
    assert seen[0]["number"] == "+8613800138000" and seen[0]["outcome"] == "no_answer"
    record = SqlCallLog(sessions).call_record("u-1")
    assert record is not None and record.webhook is not None
    hook = record.webhook
    assert (hook.state, hook.tries, hook.status_code, hook.delivered_at) == (
        "delivered", 2, 200, later,
    )  # fmt: skip


def test_campaign_without_webhook_sends_nothing(sessions: sessionmaker[Session]) -> None:
    campaign_id, lead_id = seed(sessions, webhook_url=None)
    SqlAttemptSink(sessions, clock=FakeClock(NOW)).record("fs1", end(campaign_id, lead_id))
    seen: list[dict[str, Any]] = []
    deps = post_call_deps(sessions, FakeClock(NOW), sender([200], seen))
    with sessions() as s:
        attempt_id = s.scalars(select(CallAttempt.id)).one()
    assert deliver_webhook(attempt_id, deps).state == "no webhook"
    assert seen == []


def test_the_webhook_job_carries_the_cdr_and_whether_the_campaign_records(
    sessions: sessionmaker[Session],
) -> None:
    from decimal import Decimal

    from dialer.cdr.orm import CdrRow
    from dialer.postcall.adapters import SqlDeliveryStore

    campaign_id, _, (attempt_id,) = recorded(sessions)
    store = SqlDeliveryStore(sessions)
    job = store.webhook_job(attempt_id)
    assert job is not None
    assert (job.record.recorded, job.record.billsec_s, job.record.cost) == (False, None, None)
    with sessions.begin() as s:
        s.get_one(Campaign, campaign_id).record = True
        s.add(
            CdrRow(
                call_uuid="u-1", received_at=NOW, xml="<cdr/>", campaign_id=campaign_id,
                billsec=42, billed_s=42, cost=Decimal("0.042"),
            )
        )  # fmt: skip
    job = store.webhook_job(attempt_id)
    assert job is not None
    assert (job.record.recorded, job.record.billsec_s) == (True, 42)
    assert job.record.cost is not None and Decimal(job.record.cost) == Decimal("0.042")
