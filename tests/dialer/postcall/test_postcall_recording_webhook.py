"""One webhook carries a recording campaign's CDR and recording: an answered call waits for
both (up to the wait), then goes with the recording's expiring URL; calls of other campaigns
and unanswered calls go at once; a recording that never came leaves the webhook without it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import WebhookJob
from dialer.postcall.service import PostCallDeps, deliver_webhook
from dialer.postcall.webhooks import (
    MAX_TRIES,
    RECORDING_POLL_S,
    AttemptRecord,
    TryResult,
    recording_wait_s,
)
from dialer.recordings.fakes import MemoryRecordingStorage
from dialer.recordings.service import RecordingDeps, signature_ok
from tests.dialer.postcall.test_postcall_webhooks import NOW, TARGET, record
from tests.support.clock import FakeClock

UUID = "5df43cdc-5db9-4117-a6a3-2d7a29dcd516"
WAIT_S = 300.0


def recorded(**changes: object) -> AttemptRecord:
    return replace(record(), call_uuid=UUID, recorded=True, **changes)  # type: ignore[arg-type]


def setup(
    rec: AttemptRecord, clock: FakeClock
) -> tuple[PostCallDeps, ScriptedSender, MemoryRecordingStorage]:
    storage = MemoryRecordingStorage()
    recordings = RecordingDeps(storage, clock, secret="s3cret", url_ttl_s=3600)
    sender = ScriptedSender([TryResult(200)])
    deps = PostCallDeps(
        MemoryDeliveries({7: WebhookJob(rec, TARGET)}), sender, clock, MAX_TRIES,
        recordings=recordings, public_url="https://dialer.example", recording_wait_s=WAIT_S,
    )  # fmt: skip
    return deps, sender, storage


def test_the_webhook_waits_for_the_cdr_and_the_recording_then_carries_both() -> None:
    clock = FakeClock(NOW)
    deps, sender, storage = setup(recorded(), clock)
    waiting = deliver_webhook(7, deps)
    assert (waiting.state, waiting.retry_in_s) == ("waiting", RECORDING_POLL_S)
    storage.put(UUID, "wav", b"RIFF....WAVE", NOW)
    assert deliver_webhook(7, deps).state == "waiting"  # the CDR is not there yet
    assert sender.sent == []
    store = deps.store
    assert isinstance(store, MemoryDeliveries)
    store.jobs[7] = WebhookJob(recorded(billsec_s=40, cost="0.040000"), TARGET)
    assert deliver_webhook(7, deps).state == "delivered"
    ((_, body, _),) = sender.sent
    assert (body["billsec"], body["cost"]) == (40, "0.040000")
    url = urlsplit(body["recording"])
    assert (url.scheme, url.netloc, url.path) == (
        "https", "dialer.example", f"/files/recordings/{UUID}",
    )  # fmt: skip
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert deps.recordings is not None
    assert signature_ok(deps.recordings, UUID, int(query["expires"]), query["sig"])


def test_a_recording_that_never_comes_leaves_the_webhook_without_it_after_the_wait() -> None:
    clock = FakeClock(NOW)
    deps, sender, _ = setup(recorded(billsec_s=40), clock)
    assert deliver_webhook(7, deps).state == "waiting"
    clock.advance(WAIT_S - 3)
    assert deliver_webhook(7, deps).retry_in_s == 3  # never past the deadline
    clock.advance(3)
    assert deliver_webhook(7, deps).state == "delivered"
    ((_, body, _),) = sender.sent
    assert body["recording"] is None and body["billsec"] == 40


@pytest.mark.parametrize(
    "rec",
    [
        replace(record(), call_uuid=UUID),  # the campaign does not record
        recorded(answered_at=None, connected_at=None, outcome="no_answer"),  # nothing recorded
    ],
)
def test_other_calls_go_at_once_without_a_recording(rec: AttemptRecord) -> None:
    clock = FakeClock(NOW)
    deps, sender, _ = setup(rec, clock)
    assert deliver_webhook(7, deps).state == "delivered"
    ((_, body, _),) = sender.sent
    assert body["recording"] is None and body["billsec"] is None


def test_the_wait_counts_from_the_calls_end() -> None:
    late = NOW + timedelta(seconds=WAIT_S + 1)
    assert recording_wait_s(recorded(), False, late, WAIT_S) is None
    assert recording_wait_s(recorded(), False, NOW, WAIT_S) == RECORDING_POLL_S
    assert recording_wait_s(recorded(billsec_s=1), True, NOW, WAIT_S) is None
