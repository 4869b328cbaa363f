"""The `DeliveryStore` contract (`dialer.postcall.ports`): `MemoryDeliveries` and
`SqlDeliveryStore` on SQLite and PostgreSQL. Which attempts have a job, what a job carries
(the campaign's webhook, or the placing system key's), how tries are counted and logged; a
``campaign.paused`` delivery beside an attempt's ``call.ended``; claims of due retries (once
each, again after the lease), a retry's job, a call's deliveries; an API call's deliveries in
the same store, claimed, retried and listed as an attempt's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery
from dialer.apicalls.orm import ApiCallRow
from dialer.apikeys.orm import ApiKeyRow
from dialer.db.base import transaction
from dialer.postcall.adapters import SqlDeliveryStore
from dialer.postcall.fakes import MemoryDeliveries
from dialer.postcall.ports import (
    ApiCallJob,
    ApiCallRef,
    CallDeliveries,
    DeliveryStore,
    DueTry,
    PauseJob,
    RetryJob,
    Target,
    TryLine,
    TrySent,
    WebhookJob,
)
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
SECRET = "whsec_contract-secret-0001"
TARGET = Target(URL, SECRET)
KEY_TARGET = Target("http://crm.test/key-hook", "whsec_key-secret-000000001")
KEY_ID = "a1b2c3d4e5f6"
BARE_KEY_ID = "0f9e8d7c6b5a"  # a system key without a webhook
BODY = b'{"event":"call.ended","n":"\xc3\xa9"}'


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

    def ended_attempt(self, url: str | None = URL, by_key: bool = False) -> AttemptRecord:
        """An ended attempt of the campaign, whose webhook is ``url``; ``by_key``: placed
        through the API by system key `KEY_ID`, whose webhook is `KEY_TARGET`."""
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

    def api_call(self, uuid: str, ended: bool = True, key_id: str = KEY_ID) -> ApiCallRef:
        """An API call placed by ``key_id`` (`KEY_ID`: webhook `KEY_TARGET`; `BARE_KEY_ID`:
        none), ended or still dialling."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryDeliveries()
        self.store: DeliveryStore = self.memory
        self.ids = 0

    def ended_attempt(self, url: str | None = URL, by_key: bool = False) -> AttemptRecord:
        self.ids += 1
        ended = record(self.ids, 1, 1, "+8613800000000")
        target = KEY_TARGET if by_key else (Target(url, SECRET) if url else None)
        self.memory.jobs[ended.attempt_id] = WebhookJob(ended, target)
        if by_key:
            self.memory.owners[ended.call_uuid] = KEY_ID
        return ended

    def open_attempt(self) -> int:
        self.ids += 1
        return self.ids

    def state(self, attempt_id: int) -> str:
        return self.memory.state(attempt_id)

    def pause_of(self, ended: AttemptRecord) -> PauseJob:
        job = PauseJob(ended.attempt_id, ended.campaign_id, ended.campaign, TARGET)
        self.memory.pause_jobs[ended.call_uuid] = job
        return job

    def api_call(self, uuid: str, ended: bool = True, key_id: str = KEY_ID) -> ApiCallRef:
        ref = ApiCallRef(len(self.memory.api_calls) + 1)
        self.memory.api_calls[uuid] = ref.api_call_id
        self.memory.owners[uuid] = key_id
        if ended:
            target = KEY_TARGET if key_id == KEY_ID else None
            self.memory.api_jobs[uuid] = ApiCallJob(ref, target)
        return ref


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(
            sessions, 1, {}, webhook_url=URL, webhook_secret=SECRET
        )
        self.store: DeliveryStore = SqlDeliveryStore(sessions)
        with transaction(sessions) as session:
            session.add(
                ApiKeyRow(
                    key_id=KEY_ID, secret_sha256="0" * 64, role="system", agent="", label="",
                    created_at=T0, webhook_url=KEY_TARGET.url, webhook_secret=KEY_TARGET.secret,
                )
            )  # fmt: skip
            session.add(
                ApiKeyRow(
                    key_id=BARE_KEY_ID, secret_sha256="1" * 64, role="system", agent="",
                    label="", created_at=T0,
                )
            )  # fmt: skip

    def _attempt(self, session: Session, uuid: str, **fields: object) -> CallAttempt:
        lead = session.scalars(select(Lead)).one()
        row = CallAttempt(
            call_uuid=uuid, lead_id=lead.id, campaign_id=self.campaign_id,
            dialed_number=lead.phone_e164, **fields,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    def ended_attempt(self, url: str | None = URL, by_key: bool = False) -> AttemptRecord:
        with transaction(self.sessions) as session:
            campaign = session.get(Campaign, self.campaign_id)
            assert campaign is not None
            campaign.webhook_url = url
            campaign.webhook_secret = SECRET if url else None
            row = self._attempt(
                session, "pending-uuid", originated_at=T0, api_key_id=KEY_ID if by_key else None
            )
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
        return PauseJob(ended.attempt_id, self.campaign_id, "campaign", TARGET)

    def api_call(self, uuid: str, ended: bool = True, key_id: str = KEY_ID) -> ApiCallRef:
        with transaction(self.sessions) as session:
            row = ApiCallRow(
                call_uuid=uuid, kind="click_to_call", key_id=key_id, request_sha256="",
                number="+8613800000000", agent="1001", trunks="", ext={"ticket": 1},
                status="ended" if ended else "dialing", created_at=T0, originated_at=T0,
                ended_at=T0 + timedelta(seconds=70) if ended else None,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return ApiCallRef(row.id)


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def sent(url: str = URL) -> TrySent:
    return TrySent(url, BODY)


def test_an_ended_attempt_is_a_job_with_its_campaigns_webhook(h: Harness) -> None:
    ended = h.ended_attempt()
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 0, False)
    assert h.state(ended.attempt_id) == "none"
    assert h.store.webhook_job(h.open_attempt()) is None
    assert h.store.webhook_job(ended.attempt_id + 1000) is None


def test_a_call_placed_by_a_system_key_goes_to_the_keys_webhook(h: Harness) -> None:
    ended = h.ended_attempt(by_key=True)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, KEY_TARGET, 0, False)
    h.store.record_try(ended.attempt_id, sent(KEY_TARGET.url), TryResult(200), Delivered(), T0)
    found = h.store.call_deliveries(ended.call_uuid)
    assert found is not None and found.api_key_id == KEY_ID
    assert h.store.call_deliveries(h.ended_attempt().call_uuid).api_key_id is None  # type: ignore[union-attr]


def test_a_campaign_without_webhook_gives_a_job_without_target(h: Harness) -> None:
    ended = h.ended_attempt(url=None)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, None, 0, False)


def test_tries_are_counted_until_one_delivers(h: Harness) -> None:
    ended = h.ended_attempt()
    no_answer = TryResult(None, "ConnectError")
    h.store.record_try(ended.attempt_id, sent(), no_answer, RetryIn(30), T0)
    job = h.store.webhook_job(ended.attempt_id)
    assert job == WebhookJob(ended, TARGET, 1, False) and h.state(ended.attempt_id) == "retrying"
    later = T0 + timedelta(seconds=30)
    h.store.record_try(ended.attempt_id, sent(), TryResult(200), Delivered(), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 2, True)
    assert h.state(ended.attempt_id) == "delivered"
    # a duplicate task's try that raced the delivery: counted; delivered it stays, not due
    h.store.record_try(ended.attempt_id, sent(), TryResult(503), RetryIn(120), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 3, True)
    assert h.state(ended.attempt_id) == "delivered"
    assert h.store.claim_due(later + timedelta(days=1), 300, 10) == []


def test_a_given_up_delivery_is_not_delivered(h: Harness) -> None:
    ended = h.ended_attempt()
    other = h.ended_attempt()
    h.store.record_try(ended.attempt_id, sent(), TryResult(404, "gone"), GiveUp("404"), T0)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 1, False)
    assert h.state(ended.attempt_id) == "failed"
    assert h.store.webhook_job(other.attempt_id) == WebhookJob(other, TARGET, 0, False)
    assert h.state(other.attempt_id) == "none"
    assert h.store.claim_due(T0 + timedelta(days=1), 300, 10) == []


def test_the_job_names_the_campaigns_webhook_not_the_url_last_tried(h: Harness) -> None:
    ended = h.ended_attempt()
    moved = "http://crm.test/old-hook"
    h.store.record_try(ended.attempt_id, sent(moved), TryResult(503), RetryIn(30), T0)
    job = h.store.webhook_job(ended.attempt_id)
    assert job is not None and (job.target, job.tries) == (TARGET, 1)


def test_a_pause_is_delivered_apart_from_the_calls_own_webhook(h: Harness) -> None:
    ended = h.ended_attempt()
    job = h.pause_of(ended)
    assert h.store.pause_job(ended.call_uuid) == job
    assert h.store.pause_job("no-such-call") is None
    h.store.record_try(
        ended.attempt_id, sent(), TryResult(503), RetryIn(30), T0, event=PAUSED_EVENT
    )
    later = T0 + timedelta(seconds=30)
    h.store.record_try(ended.attempt_id, sent(), TryResult(200), Delivered(), later, PAUSED_EVENT)
    assert h.store.pause_job(ended.call_uuid) == PauseJob(
        job.attempt_id, job.campaign_id, "campaign", TARGET, 2, True
    )
    # the call's own delivery is untouched, and has its own tries
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 0, False)
    assert h.state(ended.attempt_id) == "none"
    h.store.record_try(ended.attempt_id, sent(), TryResult(200), Delivered(), later)
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 1, True)
    assert h.store.pause_job(ended.call_uuid) == PauseJob(
        job.attempt_id, job.campaign_id, "campaign", TARGET, 2, True
    )


def test_due_retries_are_claimed_once_earliest_first_and_again_after_the_lease(
    h: Harness,
) -> None:
    late, early, later = h.ended_attempt(), h.ended_attempt(), h.ended_attempt()
    h.store.record_try(late.attempt_id, sent(), TryResult(503), RetryIn(600), T0)
    h.store.record_try(early.attempt_id, sent(), TryResult(503), RetryIn(30), T0)
    h.store.record_try(later.attempt_id, sent(), TryResult(503), RetryIn(7200), T0)
    assert h.store.claim_due(T0 + timedelta(seconds=29), 300, 10) == []
    at = T0 + timedelta(seconds=600)
    claims = h.store.claim_due(at, 300, 10)
    assert [c.tries for c in claims] == [1, 1] and len({c.delivery_id for c in claims}) == 2
    first, second = (h.store.retry_job(c.delivery_id) for c in claims)
    assert first is not None and second is not None
    assert (first.owner, second.owner) == (early.attempt_id, late.attempt_id)
    assert h.store.claim_due(at, 300, 10) == []  # claimed: not twice
    assert h.store.claim_due(at + timedelta(seconds=299), 300, 10) == []
    again = h.store.claim_due(at + timedelta(seconds=300), 300, 10)  # the tries were lost
    assert sorted(again, key=lambda c: c.delivery_id) == sorted(claims, key=lambda c: c.delivery_id)
    # a recorded try moves it on: its next time is the verdict's, not the lease's
    h.store.record_try(early.attempt_id, sent(), TryResult(503), RetryIn(120), at)
    job = h.store.retry_job(claims[0].delivery_id)
    assert job is not None and (job.tries, job.state) == (2, "retrying")
    # due before the other claim's lease runs out: only it
    assert h.store.claim_due(at + timedelta(seconds=120), 300, 10) == [
        DueTry(claims[0].delivery_id, 2)
    ]


def test_a_retry_job_resends_the_first_body_to_the_current_webhook(h: Harness) -> None:
    ended = h.ended_attempt()
    h.store.record_try(ended.attempt_id, sent(), TryResult(503), RetryIn(30), T0)
    other_body = TrySent(URL, b'{"changed":true}')
    h.store.record_try(ended.attempt_id, other_body, TryResult(503), RetryIn(120), T0)
    [claim] = h.store.claim_due(T0 + timedelta(hours=1), 300, 10)
    assert h.store.retry_job(claim.delivery_id) == RetryJob(
        claim.delivery_id, ended.attempt_id, ended.call_uuid, "call.ended", BODY, TARGET, 2,
        "retrying", URL,
    )  # fmt: skip
    assert h.store.retry_job(claim.delivery_id + 1000) is None


def test_a_calls_deliveries_list_every_try_with_its_next_try(h: Harness) -> None:
    ended = h.ended_attempt()
    h.pause_of(ended)
    t1, t2 = T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)
    h.store.record_try(ended.attempt_id, sent(), TryResult(503, "busy", "120"), RetryIn(120), T0)
    h.store.record_try(ended.attempt_id, sent(), TryResult(200), Delivered(), t2)
    h.store.record_try(ended.attempt_id, sent(), TryResult(None, "timeout"), RetryIn(30), t1,
                       event=PAUSED_EVENT)  # fmt: skip
    found = h.store.call_deliveries(ended.call_uuid)
    assert found is not None and found.call_uuid == ended.call_uuid
    assert found.api_key_id is None
    ended_log, paused_log = found.deliveries
    assert (ended_log.event, ended_log.delivery, ended_log.state) == (
        "call.ended", ended.call_uuid, "delivered",
    )  # fmt: skip
    assert (ended_log.url, ended_log.next_try_at, ended_log.delivered_at) == (URL, None, t2)
    assert ended_log.tries == [
        TryLine(T0, URL, 503, "busy", T0 + timedelta(seconds=120)),
        TryLine(t2, URL, 200, "", None),
    ]
    assert (paused_log.event, paused_log.delivery, paused_log.state) == (
        "campaign.paused", f"{ended.call_uuid}:campaign.paused", "retrying",
    )  # fmt: skip
    assert paused_log.tries == [TryLine(t1, URL, None, "timeout", t1 + timedelta(seconds=30))]
    assert paused_log.next_try_at == t1 + timedelta(seconds=30)
    quiet = h.ended_attempt()
    empty = h.store.call_deliveries(quiet.call_uuid)
    assert empty is not None and empty.deliveries == []
    assert h.store.call_deliveries("no-such-call") is None


def test_an_ended_api_call_is_a_job_with_its_keys_webhook(h: Harness) -> None:
    ref = h.api_call("api-1")
    assert h.store.api_call_job("api-1") == ApiCallJob(ref, KEY_TARGET, 0, False)
    bare = h.api_call("api-bare", key_id=BARE_KEY_ID)
    assert h.store.api_call_job("api-bare") == ApiCallJob(bare, None, 0, False)
    h.api_call("api-open", ended=False)
    assert h.store.api_call_job("api-open") is None  # not ended yet
    assert h.store.api_call_job("no-such-call") is None
    # a call still dialling has no deliveries yet, and is its key's
    assert h.store.call_deliveries("api-open") == CallDeliveries("api-open", KEY_ID, [])


def test_an_api_calls_delivery_is_claimed_retried_and_listed_as_an_attempts(h: Harness) -> None:
    ended = h.ended_attempt()
    ref = h.api_call("api-1")
    h.store.record_try(ref, sent(KEY_TARGET.url), TryResult(503, "busy"), RetryIn(30), T0)
    assert h.store.api_call_job("api-1") == ApiCallJob(ref, KEY_TARGET, 1, False)
    # the attempt's own delivery is another one
    assert h.store.webhook_job(ended.attempt_id) == WebhookJob(ended, TARGET, 0, False)
    [claim] = h.store.claim_due(T0 + timedelta(seconds=30), 300, 10)
    assert claim.tries == 1
    assert h.store.retry_job(claim.delivery_id) == RetryJob(
        claim.delivery_id, ref, "api-1", "call.ended", BODY, KEY_TARGET, 1, "retrying",
        KEY_TARGET.url,
    )  # fmt: skip
    t1 = T0 + timedelta(seconds=31)
    h.store.record_try(ref, sent(KEY_TARGET.url), TryResult(200), Delivered(), t1)
    assert h.store.api_call_job("api-1") == ApiCallJob(ref, KEY_TARGET, 2, True)
    found = h.store.call_deliveries("api-1")
    assert found is not None and found.api_key_id == KEY_ID
    [log] = found.deliveries
    assert (log.event, log.delivery, log.state, log.delivered_at) == (
        "call.ended", "api-1", "delivered", t1,
    )  # fmt: skip
    assert log.tries == [
        TryLine(T0, KEY_TARGET.url, 503, "busy", T0 + timedelta(seconds=30)),
        TryLine(t1, KEY_TARGET.url, 200, "", None),
    ]
    assert h.store.call_deliveries(ended.call_uuid) == CallDeliveries(ended.call_uuid, None, [])
