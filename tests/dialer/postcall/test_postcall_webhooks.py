"""Webhooks, pure and through the service with memory fakes: the document, the backoff,
which failures are retried, idempotence once delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import PauseJob, WebhookJob
from dialer.postcall.service import PostCallDeps, deliver_pause_webhook, deliver_webhook
from dialer.postcall.webhooks import (
    MAX_TRIES,
    AttemptRecord,
    Delivered,
    GiveUp,
    RetryIn,
    TryResult,
    document,
    verdict,
)
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
URL = "https://crm.example/hooks/calls"


def record(outcome: str = "connected") -> AttemptRecord:
    return AttemptRecord(
        attempt_id=7, call_uuid="u-7", campaign_id=1, campaign="spring", lead_id=42,
        number_e164="+8613800138000", attempt_no=2, outcome=outcome, abandoned=False,
        originated_at=NOW - timedelta(seconds=60), answered_at=NOW - timedelta(seconds=40),
        connected_at=NOW - timedelta(seconds=39), ended_at=NOW, agent="1001",
        trunk="carrier1", hangup_cause="NORMAL_CLEARING", hangup_cause_q850=16,
        sip_status="200",
    )  # fmt: skip


def test_document_carries_the_attempt_with_utc_times() -> None:
    doc = document(record())
    assert doc["number"] == "+8613800138000" and doc["attempt_no"] == 2
    assert doc["campaign"] == "spring" and doc["lead_id"] == 42
    assert doc["ended_at"] == "2026-11-21T15:00:00+00:00"
    assert (doc["agent"], doc["trunk"], doc["outcome"]) == ("1001", "carrier1", "connected")
    assert (doc["hangup_cause"], doc["hangup_cause_q850"], doc["sip_status"]) == (
        "NORMAL_CLEARING",
        16,
        "200",
    )


def test_backoff_doubles_and_is_bounded() -> None:
    failing = TryResult(503)
    delays = [verdict(failing, n) for n in range(1, MAX_TRIES + 1)]
    assert delays[:-1] == [RetryIn(2), RetryIn(4), RetryIn(8), RetryIn(16), RetryIn(32)]
    assert delays[-1] == GiveUp(f"gave up after {MAX_TRIES} tries")


@pytest.mark.parametrize("code", [408, 429, 500, 502, None])
def test_transient_failures_are_retried(code: int | None) -> None:
    assert verdict(TryResult(code, "x"), 1) == RetryIn(2)


@pytest.mark.parametrize("code", [301, 400, 401, 404, 410, 422])
def test_other_client_errors_are_not(code: int) -> None:
    assert isinstance(verdict(TryResult(code), 1), GiveUp)
    assert verdict(TryResult(204), 1) == Delivered()


def deps(store: MemoryDeliveries, sender: ScriptedSender) -> PostCallDeps:
    return PostCallDeps(store, sender, FakeClock(NOW), MAX_TRIES)


def test_service_retries_then_delivers_once() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), URL)})
    sender = ScriptedSender([TryResult(None, "ConnectError"), TryResult(500), TryResult(200)])
    first = deliver_webhook(7, deps(store, sender))
    assert (first.state, first.tries, first.retry_in_s) == ("retrying", 1, 2)
    assert deliver_webhook(7, deps(store, sender)).retry_in_s == 4
    done = deliver_webhook(7, deps(store, sender))
    assert (done.state, done.tries, done.retry_in_s) == ("delivered", 3, None)
    assert deliver_webhook(7, deps(store, sender)).state == "delivered before"
    assert len(sender.sent) == 3 and store.state(7) == "delivered"
    url, body, headers = sender.sent[0]
    assert url == URL and body["call_uuid"] == "u-7"
    assert headers["X-Dialer-Delivery"] == "u-7"


def test_service_gives_up_on_a_404_and_skips_what_has_no_webhook() -> None:
    store = MemoryDeliveries(
        {7: WebhookJob(record(), URL), 8: WebhookJob(record(), None),
         9: WebhookJob(record("not_dialled"), URL)}
    )  # fmt: skip
    sender = ScriptedSender([TryResult(404)])
    gone = deliver_webhook(7, deps(store, sender))
    assert (gone.state, gone.retry_in_s) == ("failed", None)
    assert deliver_webhook(8, deps(store, sender)).state == "no webhook"
    assert deliver_webhook(9, deps(store, sender)).state == "not dialled"
    assert deliver_webhook(10, deps(store, sender)).state == "no attempt"
    assert len(sender.sent) == 1


REASON = "5 answered calls in a row abandoned (no agent took them)"


def test_a_pause_is_posted_with_its_reason_retried_as_calls_are_then_not_again() -> None:
    store = MemoryDeliveries()
    store.pause_jobs["u-7"] = PauseJob(7, 1, "spring", URL)
    sender = ScriptedSender([TryResult(503), TryResult(200)])
    first = deliver_pause_webhook("u-7", REASON, NOW, deps(store, sender))
    assert (first.state, first.tries, first.retry_in_s) == ("retrying", 1, 2)
    done = deliver_pause_webhook("u-7", REASON, NOW, deps(store, sender))
    assert (done.state, done.tries) == ("delivered", 2)
    assert deliver_pause_webhook("u-7", REASON, NOW, deps(store, sender)).state == (
        "delivered before"
    )
    url, body, headers = sender.sent[-1]
    assert url == URL and body == {
        "event": "campaign.paused", "campaign": "spring", "campaign_id": 1,
        "status": "paused", "reason": REASON, "paused_at": "2026-11-21T15:00:00+00:00",
        "call_uuid": "u-7",
    }  # fmt: skip
    assert headers == {
        "X-Dialer-Event": "campaign.paused",
        "X-Dialer-Delivery": "u-7:campaign.paused",
    }
    assert store.jobs == {} and store.tries == []  # the call's own delivery is apart


def test_a_pause_of_a_campaign_without_webhook_sends_nothing() -> None:
    store = MemoryDeliveries()
    store.pause_jobs["u-8"] = PauseJob(8, 1, "spring", None)
    sender = ScriptedSender([TryResult(200)])
    assert deliver_pause_webhook("u-8", REASON, NOW, deps(store, sender)).state == "no webhook"
    assert deliver_pause_webhook("u-9", REASON, NOW, deps(store, sender)).state == "no attempt"
    assert sender.sent == []
