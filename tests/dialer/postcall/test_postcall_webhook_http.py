"""Webhook deliveries end to end on SQLite and PostgreSQL, to a real HTTP receiver on
loopback: each try verifies with the recipe docs/api/webhooks.md prints (and a tampered body,
another secret or a stale timestamp does not); a system key's call goes to the key's
webhook; ``Retry-After`` (both forms) sets the next try, on an injected clock; the retries
of a failing receiver span more than a day and are listed per call, an API call's as a
campaign call's (one delivery store, one sweep, one schedule)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome
from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.service import create_campaign, parse_spec
from dialer.apicalls.adapters import SqlApiCallStore
from dialer.apicalls.ports import CallKind, CallStatus, NewApiCall
from dialer.apicalls.webhook import deliver_call_webhook
from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.ports import Role
from dialer.apikeys.service import issue_key, set_key_webhook
from dialer.calls.agent_first import AgentFirstEnd
from dialer.calls.machine import CallEnd
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.db.base import transaction
from dialer.listener.adapters import SqlAttemptSink
from dialer.postcall.adapters import HttpxSender
from dialer.postcall.service import (
    PostCallDeps,
    call_deliveries,
    claim_due_retries,
    deliver_webhook,
    retry_delivery,
)
from dialer.postcall.signing import verify
from dialer.postcall.webhooks import MAX_TRIES, RETRY_DELAYS_S
from dialer.postcall.wiring import post_call_deps
from tests.support.clock import FakeClock
from tests.support.webhooks import Receiver, Reply, documented_verify, receiving

T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


@pytest.fixture
def sender() -> Iterator[HttpxSender]:
    client = HttpxSender(timeout_s=5.0)
    yield client
    client.close()


def ended_call(
    sessions: sessionmaker[Session], hook_url: str, uuid: str = "u-1"
) -> tuple[int, str]:
    """A campaign whose webhook is ``hook_url`` (its secret made by the service), and an
    ended call of it recorded as the listener records one: (attempt id, secret)."""
    spec = parse_spec(name=f"c-{uuid}", queue_name="sales@default", webhook_url=hook_url)
    with transaction(sessions) as session:
        campaign = create_campaign(session, spec)
        lead = Lead(campaign_id=campaign.id, phone_e164="+8613800138000", phone_raw="13800138000",
                    country="CN", number_type="mobile")  # fmt: skip
        session.add(lead)
        session.flush()
        campaign_id, lead_id, secret = campaign.id, lead.id, campaign.webhook_secret
    assert secret is not None and secret.startswith("whsec_")
    end = CallEnd(
        call_uuid=uuid, campaign_id=campaign_id, lead_id=lead_id, attempt_id=None,
        outcome=AttemptOutcome.CONNECTED, disposition="x", hangup_cause="NORMAL_CLEARING",
        abandoned=False, trunk="carrier1", dialed_number="+8613800138000", ended_at=T0,
    )  # fmt: skip
    notified: list[int] = []
    SqlAttemptSink(sessions, clock=FakeClock(T0), notify=notified.append).record("fs1", end)
    return notified[0], secret


def deps(sessions: sessionmaker[Session], sender: HttpxSender, clock: Clock) -> PostCallDeps:
    return post_call_deps(sessions, clock, sender)


def test_a_delivery_verifies_with_the_documented_recipe_and_a_tampered_one_does_not(
    sessions: sessionmaker[Session], receiver: Receiver, sender: HttpxSender
) -> None:
    attempt_id, secret = ended_call(sessions, f"{receiver.base_url}/calls")
    assert deliver_webhook(attempt_id, deps(sessions, sender, SYSTEM_CLOCK)).state == "delivered"
    [got] = receiver.requests
    header, body = got.headers["x-dialer-signature"], got.body
    assert got.path == "/calls" and got.headers["content-type"] == "application/json"
    assert (
        got.headers["x-dialer-event"] == "call.ended" and got.headers["x-dialer-delivery"] == "u-1"
    )
    assert json.loads(body)["call_uuid"] == "u-1"
    check = documented_verify()
    assert check(secret, header, body)  # the receiver's clock: now
    assert verify(secret, header, body, int(time.time()))
    tampered = body.replace(b'"connected"', b'"abandoned"')
    assert tampered != body
    assert not check(secret, header, tampered)
    assert not check(secret, header, body + b" ")
    assert not check(secret, header, json.dumps(json.loads(body)).encode())  # re-serialised
    assert not check("whsec_another-secret-000000", header, body)
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert not check(secret, header, body, now=stamp + 301)  # replayed later
    assert check(secret, header, body, now=stamp + 300)
    assert not check(secret, header.replace("t=", "t=1"), body, now=stamp)


def test_a_call_placed_by_a_system_key_goes_to_the_keys_webhook_with_its_secret(
    sessions: sessionmaker[Session], receiver: Receiver, sender: HttpxSender
) -> None:
    attempt_id, campaign_secret = ended_call(sessions, f"{receiver.base_url}/campaign")
    keys = SqlKeyStore(sessions)
    key = issue_key(keys, FakeClock(T0), Role.SYSTEM).key
    key_secret = set_key_webhook(keys, key.key_id, f"{receiver.base_url}/crm")
    assert key_secret is not None
    with transaction(sessions) as session:
        session.execute(
            update(CallAttempt).where(CallAttempt.id == attempt_id).values(api_key_id=key.key_id)
        )
    assert deliver_webhook(attempt_id, deps(sessions, sender, SYSTEM_CLOCK)).state == "delivered"
    [got] = receiver.requests
    assert got.path == "/crm"
    assert documented_verify()(key_secret, got.headers["x-dialer-signature"], got.body)
    assert not documented_verify()(campaign_secret, got.headers["x-dialer-signature"], got.body)
    listed = call_deliveries(post_call_deps(sessions, SYSTEM_CLOCK, sender).store, "u-1")
    assert listed.api_key_id == key.key_id


def test_a_503_with_retry_after_schedules_the_next_try_when_asked_in_both_forms(
    sessions: sessionmaker[Session], receiver: Receiver, sender: HttpxSender
) -> None:
    attempt_id, _ = ended_call(sessions, f"{receiver.base_url}/calls")
    clock = FakeClock(T0)
    in_45_min = (T0 + timedelta(seconds=120 + 45 * 60)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.script(
        Reply(503, "maintenance", {"Retry-After": "120"}),
        Reply(503, "still", {"Retry-After": in_45_min}),
        Reply(200),
    )
    first = deliver_webhook(attempt_id, deps(sessions, sender, clock))
    assert (first.state, first.retry_in_s) == ("retrying", 120)
    [line] = call_deliveries(deps(sessions, sender, clock).store, "u-1").deliveries
    assert line.next_try_at == T0 + timedelta(seconds=120)
    assert line.tries[0].next_try_at == T0 + timedelta(seconds=120)
    assert (line.tries[0].status_code, line.tries[0].error) == (503, "maintenance")
    clock.advance(119)
    assert claim_due_retries(deps(sessions, sender, clock)) == []  # not before it asked
    clock.advance(1)
    [claim] = claim_due_retries(deps(sessions, sender, clock))
    second = retry_delivery(claim.delivery_id, claim.tries, deps(sessions, sender, clock))
    assert (second.state, second.retry_in_s) == ("retrying", 45 * 60)
    clock.advance(45 * 60 - 1)
    assert claim_due_retries(deps(sessions, sender, clock)) == []
    clock.advance(1)
    [claim] = claim_due_retries(deps(sessions, sender, clock))
    third = retry_delivery(claim.delivery_id, claim.tries, deps(sessions, sender, clock))
    assert (third.state, third.tries) == ("delivered", 3)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same body each time


def test_the_retries_of_a_failing_receiver_span_over_a_day_and_are_listed(
    sessions: sessionmaker[Session], receiver: Receiver, sender: HttpxSender
) -> None:
    attempt_id, secret = ended_call(sessions, f"{receiver.base_url}/calls")
    receiver.script(Reply(500, "boom"))
    clock = FakeClock(T0)
    deliver_webhook(attempt_id, deps(sessions, sender, clock))
    swept = 0
    while True:
        [line] = call_deliveries(deps(sessions, sender, clock).store, "u-1").deliveries
        if line.next_try_at is None:
            break
        clock.set(line.next_try_at)
        for claim in claim_due_retries(deps(sessions, sender, clock)):
            retry_delivery(claim.delivery_id, claim.tries, deps(sessions, sender, clock))
            swept += 1
    assert (line.state, len(line.tries), swept) == ("failed", MAX_TRIES, MAX_TRIES - 1)
    times = [t.tried_at for t in line.tries]
    waits_s = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert waits_s == list(RETRY_DELAYS_S)
    assert times[-1] - times[0] > timedelta(hours=24)
    assert [t.next_try_at for t in line.tries] == [*times[1:], None]
    assert all((t.status_code, t.error) == (500, "boom") for t in line.tries)
    assert len(receiver.requests) == MAX_TRIES
    for request, at in zip(receiver.requests, times, strict=True):
        stamp = int(at.timestamp())
        assert request.headers["x-dialer-signature"].startswith(f"t={stamp},")
        assert verify(secret, request.headers["x-dialer-signature"], request.body, stamp)
    with sessions() as session:
        assert session.scalar(select(Campaign.webhook_secret)) == secret


def ended_api_call(sessions: sessionmaker[Session], hook_url: str) -> tuple[SqlApiCallStore, str]:
    """A system key whose webhook is ``hook_url`` and an ended click-to-call it placed, with
    ``ext``, recorded as the listener records one: (the API call store, the key's secret)."""
    keys = SqlKeyStore(sessions)
    key = issue_key(keys, FakeClock(T0), Role.SYSTEM).key
    secret = set_key_webhook(keys, key.key_id, hook_url)
    assert secret is not None
    store = SqlApiCallStore(sessions)
    store.insert(
        NewApiCall(
            call_uuid="api-1", kind=CallKind.CLICK_TO_CALL, key_id=key.key_id,
            number="+8613800138000", status=CallStatus.DIALING, created_at=T0,
            agent="1001@default", ext={"ticket": 4711}, trunk="carrier1", node="fs1",
        )
    )  # fmt: skip
    end = AgentFirstEnd(
        "api-1", 1, AttemptOutcome.CONNECTED, "x", "NORMAL_CLEARING", "carrier1", "",
        T0, T0, T0, T0 + timedelta(seconds=60), "200", 16,
    )  # fmt: skip
    assert store.record_end("fs1", end) is not None
    return store, secret


def test_an_api_calls_failing_webhook_is_retried_by_the_sweep_on_the_same_schedule(
    sessions: sessionmaker[Session], receiver: Receiver, sender: HttpxSender
) -> None:
    store, secret = ended_api_call(sessions, f"{receiver.base_url}/crm")
    receiver.script(Reply(503, "down"))
    clock = FakeClock(T0)
    first = deliver_call_webhook("api-1", store, deps(sessions, sender, clock))
    assert (first.state, first.retry_in_s) == ("retrying", RETRY_DELAYS_S[0])
    swept = 0
    while True:
        listed = call_deliveries(deps(sessions, sender, clock).store, "api-1")
        [line] = listed.deliveries
        if line.next_try_at is None:
            break
        clock.set(line.next_try_at)
        for claim in claim_due_retries(deps(sessions, sender, clock)):
            retry_delivery(claim.delivery_id, claim.tries, deps(sessions, sender, clock))
            swept += 1
    assert listed.api_key_id is not None and line.delivery == "api-1"
    assert (line.state, len(line.tries), swept) == ("failed", MAX_TRIES, MAX_TRIES - 1)
    times = [t.tried_at for t in line.tries]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == list(RETRY_DELAYS_S)
    assert len(receiver.requests) == MAX_TRIES
    assert len({r.body for r in receiver.requests}) == 1  # the first body every time
    assert json.loads(receiver.requests[0].body)["ext"] == {"ticket": 4711}
    for request, at in zip(receiver.requests, times, strict=True):
        assert request.path == "/crm"
        assert verify(
            secret, request.headers["x-dialer-signature"], request.body, int(at.timestamp())
        )
    again = deliver_call_webhook("api-1", store, deps(sessions, sender, clock))
    assert again.state == "tried before" and len(receiver.requests) == MAX_TRIES
