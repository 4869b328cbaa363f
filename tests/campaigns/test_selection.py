from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.domain import AttemptOutcome, LeadStatus, RetryOrder
from campaigns.models import Lead
from campaigns.rules import CallingWindow
from campaigns.selection import claim_due_leads, open_zone_sets
from dialer.calls.machine import CallEnd
from dialer.listener.adapters import SqlAttemptSink
from dialer.runner.adapters import SqlCampaignStore
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 11:00 in Shanghai, 22:00 Thursday NY


def _seed(sessions: sessionmaker[Session], count: int) -> int:
    with sessions.begin() as session:
        campaign = service.create_campaign(session, service.parse_spec(name="c", queue_name="q"))
        session.add_all(
            Lead(
                campaign_id=campaign.id, phone_e164=f"+86138{i:08d}", phone_raw=str(i),
                country="CN", number_type="mobile",
                time_zones="America/New_York" if i % 10 == 0 else "Asia/Shanghai",
                priority=i % 3, next_attempt_at=NOW - timedelta(seconds=i),
            )
            for i in range(count)
        )  # fmt: skip
        return campaign.id


def test_claims_by_priority_then_longest_due(sessions: sessionmaker[Session]) -> None:
    campaign_id = _seed(sessions, 30)
    with sessions.begin() as session:
        session.execute(update(Lead).where(Lead.id == 1).values(next_attempt_at=NOW + timedelta(1)))
        claimed = claim_due_leads(session, campaign_id, 5, NOW, claimer="t")
    assert [c.priority for c in claimed] == [2] * 5
    assert [c.next_attempt_at for c in claimed] == sorted(c.next_attempt_at for c in claimed)
    assert claimed[0].phone_e164 == "+8613800000029"
    with sessions() as session:
        statuses = {lead.id: lead.status for lead in session.scalars(select(Lead))}
    assert sum(s is LeadStatus.DIALING for s in statuses.values()) == 5
    assert statuses[1] is LeadStatus.PENDING


def test_not_yet_due_and_closed_windows_are_left(sessions: sessionmaker[Session]) -> None:
    campaign_id = _seed(sessions, 20)
    window = CallingWindow()
    with sessions.begin() as session:
        zones = open_zone_sets(session, campaign_id, window, NOW)
        assert zones == ["Asia/Shanghai"]
        claimed = claim_due_leads(session, campaign_id, 100, NOW, zones)
        assert len(claimed) == 18
        assert all(c.time_zones == "Asia/Shanghai" for c in claimed)
        assert claim_due_leads(session, campaign_id, 100, NOW - timedelta(days=1)) == []


def test_two_concurrent_claimers_never_share_a_lead(sessions: sessionmaker[Session]) -> None:
    campaign_id = _seed(sessions, 400)
    results: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def claimer(name: str) -> None:
        try:
            barrier.wait()
            while True:
                with sessions.begin() as session:
                    batch = claim_due_leads(session, campaign_id, 7, NOW, claimer=name)
                if not batch:
                    return
                results[name].extend(c.id for c in batch)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert not set(results["a"]) & set(results["b"])
    assert len(results["a"]) + len(results["b"]) == 400
    assert results["a"] and results["b"]


@pytest.mark.parametrize("limit", [0, -1])
def test_nothing_claimed_for_a_non_positive_limit(
    sessions: sessionmaker[Session], limit: int
) -> None:
    campaign_id = _seed(sessions, 3)
    with sessions.begin() as session:
        assert claim_due_leads(session, campaign_id, limit, NOW) == []


def _busy_retry_and_fresh_leads(sessions: sessionmaker[Session], **fields: object) -> int:
    """A campaign whose busy calls are retried after 60 s: lead 1 was dialled at ``NOW`` and
    found busy, 1,000 fresh leads of the same priority have waited since before."""
    spec = service.parse_spec(
        name="r", queue_name="q", calling_window=CallingWindow.always_open(),
        retry_rules={"rules": {"busy": {"delay_s": 60}}}, **fields,
    )  # fmt: skip
    with sessions.begin() as session:
        campaign = service.create_campaign(session, spec)
        session.add_all(
            Lead(
                campaign_id=campaign.id, phone_e164=f"+86138{i:08d}", phone_raw=str(i),
                country="CN", number_type="mobile",
                next_attempt_at=NOW - timedelta(hours=1) + timedelta(milliseconds=i),
            )
            for i in range(1001)
        )  # fmt: skip
        campaign_id = campaign.id
    with sessions.begin() as session:
        [dialled] = claim_due_leads(session, campaign_id, 1, NOW, claimer="w#1")
    assert dialled.id == 1
    busy = CallEnd(
        call_uuid="busy-1", campaign_id=campaign_id, lead_id=1, attempt_id=None,
        outcome=AttemptOutcome.BUSY, disposition="busy", hangup_cause="USER_BUSY",
        abandoned=False, dialed_number=dialled.phone_e164, ended_at=NOW,
    )  # fmt: skip
    SqlAttemptSink(sessions, clock=FakeClock(NOW), notify=lambda _id: None).record("fs1", busy)
    return campaign_id


@pytest.mark.parametrize(
    ("order", "first"),
    [(None, 1), (RetryOrder.RETRIES_FIRST, 1), (RetryOrder.FRESH_FIRST, 2),
     (RetryOrder.DUE_ORDER, 2)],
)  # fmt: skip
def test_a_due_retry_comes_before_fresh_leads_unless_the_campaign_says_otherwise(
    sessions: sessionmaker[Session], order: RetryOrder | None, first: int
) -> None:
    fields = {} if order is None else {"retry_order": order}
    campaign_id = _busy_retry_and_fresh_leads(sessions, **fields)
    with sessions() as session:
        retry = session.get(Lead, 1)
        assert retry is not None and (retry.status, retry.attempts) == (LeadStatus.PENDING, 1)
        assert retry.next_attempt_at == NOW + timedelta(seconds=60)
    store = SqlCampaignStore(sessions)
    claimed = store.claim(campaign_id, 1, NOW + timedelta(seconds=60), "w#1")
    assert [lead.id for lead in claimed] == [first]
