"""Webhooks, pure and through the service with memory fakes: the document, the schedule over
hours, ``Retry-After`` in both forms, which failures are retried, the signature of each
try, idempotence once tried, retries of claimed deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import DueTry, PauseJob, Target, TrySent, WebhookJob
from dialer.postcall.service import (
    CLAIM_LEASE_S,
    PostCallDeps,
    claim_due_retries,
    deliver_pause_webhook,
    deliver_webhook,
    retry_delivery,
)
from dialer.postcall.signing import verify
from dialer.postcall.webhooks import (
    MAX_RETRY_AFTER_S,
    MAX_TRIES,
    RETRY_DELAYS_S,
    AttemptRecord,
    Delivered,
    GiveUp,
    RetryIn,
    TryResult,
    document,
    encode,
    retry_after_s,
    verdict,
)
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
URL = "https://crm.example/hooks/calls"
SECRET = "whsec_test-secret-0123456789"
TARGET = Target(URL, SECRET)


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
    assert doc["ext"] is None


def test_the_body_is_compact_utf8_json_and_nothing_unsendable_is_encoded() -> None:
    assert encode({"name": "O'Brien, Zoë", "n": [1, 2]}) == (
        '{"name":"O\'Brien, Zoë","n":[1,2]}'.encode()
    )
    with pytest.raises(TypeError):
        encode({"ended_at": NOW})
    with pytest.raises(ValueError):
        encode({"x": float("nan")})


def test_the_schedule_spans_hours_and_is_bounded() -> None:
    failing = TryResult(503)
    delays = [verdict(failing, n, NOW) for n in range(1, MAX_TRIES + 1)]
    assert delays[:-1] == [RetryIn(s) for s in RETRY_DELAYS_S]
    assert delays[-1] == GiveUp(f"gave up after {MAX_TRIES} tries")
    waits_s = [d.delay_s for d in delays if isinstance(d, RetryIn)]
    assert waits_s == sorted(waits_s) and waits_s[0] == 30
    assert sum(waits_s) >= 24 * 3600  # first try to last: over a day, not a minute


@pytest.mark.parametrize("code", [408, 429, 500, 502, None])
def test_transient_failures_are_retried(code: int | None) -> None:
    assert verdict(TryResult(code, "x"), 1, NOW) == RetryIn(30)


@pytest.mark.parametrize("code", [301, 400, 401, 404, 410, 422])
def test_other_client_errors_are_not(code: int) -> None:
    assert isinstance(verdict(TryResult(code, retry_after="60"), 1, NOW), GiveUp)
    assert verdict(TryResult(204), 1, NOW) == Delivered()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        (" 0 ", 0),
        ("Sat, 21 Nov 2026 15:02:00 GMT", 120),
        ("Sat, 21 Nov 2026 15:01:59 GMT", 119),
        ("Saturday, 21-Nov-26 15:10:00 GMT", 600),  # RFC 850, obsolete but allowed
        ("Sat Nov 21 15:00:30 2026", 30),  # asctime
        ("Sat, 21 Nov 2026 14:00:00 GMT", 0),  # already past
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("٣", None),  # a digit, but not an ASCII one
    ],
)
def test_retry_after_is_read_in_seconds_and_as_an_http_date(
    value: str, seconds: int | None
) -> None:
    assert retry_after_s(value, NOW) == seconds


def test_retry_after_is_honoured_when_longer_than_the_schedule_and_capped() -> None:
    assert verdict(TryResult(503, retry_after="120"), 1, NOW) == RetryIn(120)
    date = (NOW + timedelta(minutes=45)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert verdict(TryResult(429, retry_after=date), 1, NOW) == RetryIn(45 * 60)
    # shorter than the schedule: the schedule's wait stands (the receiver asked for no less)
    assert verdict(TryResult(503, retry_after="5"), 5, NOW) == RetryIn(RETRY_DELAYS_S[4])
    assert verdict(TryResult(503, retry_after="999999"), 1, NOW) == RetryIn(MAX_RETRY_AFTER_S)
    assert verdict(TryResult(503, retry_after="junk"), 1, NOW) == RetryIn(30)
    # the last try stays the last
    assert isinstance(verdict(TryResult(503, retry_after="60"), MAX_TRIES, NOW), GiveUp)


def deps(
    store: MemoryDeliveries, sender: ScriptedSender, clock: FakeClock | None = None
) -> PostCallDeps:
    return PostCallDeps(store, sender, clock or FakeClock(NOW), MAX_TRIES)


def test_the_first_try_is_signed_and_a_failure_is_left_due_for_the_sweep() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), TARGET)})
    sender = ScriptedSender([TryResult(None, "ConnectError"), TryResult(200)])
    clock = FakeClock(NOW)
    first = deliver_webhook(7, deps(store, sender, clock))
    assert (first.state, first.tries, first.retry_in_s) == ("retrying", 1, 30)
    # a duplicate first-try message sends nothing: the retries are the sweep's
    assert deliver_webhook(7, deps(store, sender, clock)).state == "tried before"
    assert claim_due_retries(deps(store, sender, clock)) == []
    clock.advance(30)
    [due] = claim_due_retries(deps(store, sender, clock))
    done = retry_delivery(due.delivery_id, due.tries, deps(store, sender, clock))
    assert (done.state, done.tries) == ("delivered", 2)
    assert deliver_webhook(7, deps(store, sender, clock)).state == "delivered before"
    assert len(sender.sent) == 2 and store.state(7) == "delivered"
    (url, body, headers), (_, again, later) = sender.sent
    assert url == URL and body["call_uuid"] == "u-7" and again == body
    assert sender.raw[0] == sender.raw[1] == encode(document(record()))
    assert headers["X-Dialer-Delivery"] == "u-7" and headers["X-Dialer-Event"] == "call.ended"
    # each try signed at its own time
    t0, t1 = int(NOW.timestamp()), int(NOW.timestamp()) + 30
    assert headers["X-Dialer-Signature"].startswith(f"t={t0},v1=")
    assert later["X-Dialer-Signature"].startswith(f"t={t1},v1=")
    assert verify(SECRET, later["X-Dialer-Signature"], sender.raw[1], t1)
    assert not verify(SECRET, headers["X-Dialer-Signature"], sender.raw[0], t1 + 3600)


def test_a_claim_whose_try_was_lost_comes_back_after_the_lease_and_a_duplicate_is_stale() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), TARGET)})
    sender = ScriptedSender([TryResult(503), TryResult(200)])
    clock = FakeClock(NOW)
    deliver_webhook(7, deps(store, sender, clock))
    clock.advance(30)
    [claim] = claim_due_retries(deps(store, sender, clock))
    assert claim == DueTry(claim.delivery_id, 1)
    assert claim_due_retries(deps(store, sender, clock)) == []  # claimed: not twice
    clock.advance(CLAIM_LEASE_S)  # the worker holding the claim died before trying
    [again] = claim_due_retries(deps(store, sender, clock))
    assert again == claim
    assert retry_delivery(again.delivery_id, again.tries, deps(store, sender, clock)).state == (
        "delivered"
    )
    # the first claim's message, delivered late: nothing sent
    assert retry_delivery(claim.delivery_id, claim.tries, deps(store, sender, clock)).state == (
        "stale"
    )
    assert len(sender.sent) == 2


def test_a_retry_goes_to_the_calls_current_webhook_and_gives_up_when_it_was_removed() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), TARGET)})
    sender = ScriptedSender([TryResult(503)])
    clock = FakeClock(NOW)
    deliver_webhook(7, deps(store, sender, clock))
    moved = Target("https://crm.example/v2/hook", "whsec_rotated-secret-0000")
    store.jobs[7] = WebhookJob(record(), moved)
    clock.advance(30)
    [claim] = claim_due_retries(deps(store, sender, clock))
    retry_delivery(claim.delivery_id, claim.tries, deps(store, sender, clock))
    url, _, headers = sender.sent[-1]
    assert url == moved.url
    assert verify(moved.secret, headers["X-Dialer-Signature"], sender.raw[-1], int(
        clock.now().timestamp()))  # fmt: skip
    store.jobs[7] = WebhookJob(record(), None)
    clock.advance(120)
    [claim] = claim_due_retries(deps(store, sender, clock))
    gone = retry_delivery(claim.delivery_id, claim.tries, deps(store, sender, clock))
    assert (gone.state, gone.detail) == ("failed", "the webhook was removed")
    assert len(sender.sent) == 2 and store.state(7) == "failed"
    found = store.call_deliveries("u-7")
    assert found is not None
    assert [(t.url, t.error) for t in found.deliveries[0].tries][-1] == (
        moved.url,
        "the webhook was removed",
    )


def test_service_gives_up_on_a_404_and_skips_what_has_no_webhook() -> None:
    store = MemoryDeliveries(
        {7: WebhookJob(record(), TARGET), 8: WebhookJob(record(), None),
         9: WebhookJob(record("not_dialled"), TARGET)}
    )  # fmt: skip
    sender = ScriptedSender([TryResult(404)])
    gone = deliver_webhook(7, deps(store, sender))
    assert (gone.state, gone.retry_in_s) == ("failed", None)
    assert deliver_webhook(8, deps(store, sender)).state == "no webhook"
    assert deliver_webhook(9, deps(store, sender)).state == "not dialled"
    assert deliver_webhook(10, deps(store, sender)).state == "no attempt"
    assert len(sender.sent) == 1


def test_a_webhook_without_a_secret_is_never_sent_unsigned() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), Target(URL, ""))})
    sender = ScriptedSender([TryResult(200)])
    result = deliver_webhook(7, deps(store, sender))
    assert (result.state, result.detail) == ("failed", "the webhook has no signing secret")
    assert sender.sent == []


REASON = "5 answered calls in a row abandoned (no agent took them)"


def test_a_pause_is_posted_with_its_reason_retried_as_calls_are_then_not_again() -> None:
    store = MemoryDeliveries()
    store.pause_jobs["u-7"] = PauseJob(7, 1, "spring", TARGET)
    sender = ScriptedSender([TryResult(503), TryResult(200)])
    clock = FakeClock(NOW)
    first = deliver_pause_webhook("u-7", REASON, NOW, deps(store, sender, clock))
    assert (first.state, first.tries, first.retry_in_s) == ("retrying", 1, 30)
    clock.advance(30)
    [claim] = claim_due_retries(deps(store, sender, clock))
    done = retry_delivery(claim.delivery_id, claim.tries, deps(store, sender, clock))
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
    assert headers["X-Dialer-Event"] == "campaign.paused"
    assert headers["X-Dialer-Delivery"] == "u-7:campaign.paused"
    assert json.loads(sender.raw[0]) == body
    assert store.jobs == {} and store.tries == []  # the call's own delivery is apart


def test_a_pause_of_a_campaign_without_webhook_sends_nothing() -> None:
    store = MemoryDeliveries()
    store.pause_jobs["u-8"] = PauseJob(8, 1, "spring", None)
    sender = ScriptedSender([TryResult(200)])
    assert deliver_pause_webhook("u-8", REASON, NOW, deps(store, sender)).state == "no webhook"
    assert deliver_pause_webhook("u-9", REASON, NOW, deps(store, sender)).state == "no attempt"
    assert sender.sent == []


def test_a_delivery_first_tried_before_bodies_were_kept_is_retried_with_its_document() -> None:
    store = MemoryDeliveries({7: WebhookJob(record(), TARGET)})
    store.pause_jobs["u-7"] = PauseJob(7, 1, "spring", TARGET)
    for event in ("call.ended", "campaign.paused"):  # rows as the previous version left them
        store.record_try(7, TrySent(URL, b""), TryResult(503), RetryIn(2), NOW, event)
    sender = ScriptedSender([TryResult(200)])
    clock = FakeClock(NOW + timedelta(seconds=2))
    results = {
        store.deliveries[c.delivery_id].event: retry_delivery(
            c.delivery_id, c.tries, deps(store, sender, clock)
        )
        for c in claim_due_retries(deps(store, sender, clock))
    }
    assert results["call.ended"].state == "delivered"
    assert sender.raw == [encode(document(record()))]
    paused = results["campaign.paused"]
    assert (paused.state, paused.detail) == ("failed", "its body was not kept")
    found = store.call_deliveries("u-7")
    assert found is not None and found.deliveries[1].tries[-1].url == URL
