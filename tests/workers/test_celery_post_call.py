"""The post-call task through Celery: routed to ``post-call``, retried with the service's
delays until delivered or given up (eager), and through a real broker and worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialer.config import load_settings
from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import PauseJob, WebhookJob
from dialer.postcall.service import PostCallDeps
from dialer.postcall.webhooks import MAX_TRIES, AttemptRecord, RetryIn, TryResult
from tests.support.clock import FakeClock
from workers import tasks_post_call
from workers.celery_app import POST_CALL_QUEUE
from workers.context import AppContext
from workers.worker import WorkerRoot, install_root

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def job() -> WebhookJob:
    record = AttemptRecord(
        attempt_id=7, call_uuid="u-7", campaign_id=1, campaign="spring", lead_id=42,
        number_e164="+8613800138000", attempt_no=1, outcome="connected", abandoned=False,
        originated_at=NOW - timedelta(seconds=60), answered_at=NOW, connected_at=NOW,
        ended_at=NOW, agent="1001", trunk="carrier1", hangup_cause="NORMAL_CLEARING",
    )  # fmt: skip
    return WebhookJob(record, "https://crm.example/hook")


@pytest.fixture
def eager() -> Iterator[None]:
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=False)


Use = Callable[[list[TryResult]], tuple[MemoryDeliveries, ScriptedSender]]


@pytest.fixture
def use() -> Iterator[Use]:
    """``use(results)``: the worker's root with the post-call work on a delivery store of
    one attempt (7) and a sender answering ``results`` in turn."""
    from workers.celery_app import app

    def install(results: list[TryResult]) -> tuple[MemoryDeliveries, ScriptedSender]:
        store = MemoryDeliveries({7: job()})
        sender = ScriptedSender(results)
        deps = PostCallDeps(store, sender, FakeClock(NOW), MAX_TRIES)
        install_root(app, WorkerRoot(AppContext(load_settings()), post_call=deps))
        return store, sender

    yield install
    install_root(app, None)


def test_post_call_is_routed_to_its_queue() -> None:
    from workers.celery_app import app

    assert app.amqp.router.route({}, "dialer.post_call")["queue"].name == POST_CALL_QUEUE
    assert app.tasks["dialer.post_call"].acks_late


def test_failed_tries_are_retried_by_celery_until_delivered(eager: None, use: Use) -> None:
    from workers.celery_app import app

    store, sender = use([TryResult(None, "ConnectError"), TryResult(503), TryResult(200)])
    app.tasks["dialer.post_call"].apply(args=(7,))
    assert len(sender.sent) == 3 and store.state(7) == "delivered"
    assert [v for _, _, v, _ in store.tries][:2] == [RetryIn(2), RetryIn(4)]


def test_retries_stop_after_the_last_try(eager: None, use: Use) -> None:
    from workers.celery_app import app

    store, sender = use([TryResult(500)])
    app.tasks["dialer.post_call"].apply(args=(7,))
    assert len(sender.sent) == MAX_TRIES and store.state(7) == "failed"


def test_a_client_error_is_not_retried(eager: None, use: Use) -> None:
    from workers.celery_app import app

    _, sender = use([TryResult(404)])
    assert app.tasks["dialer.post_call"].apply(args=(7,)).get() == "failed"
    assert len(sender.sent) == 1


@pytest.mark.integration
def test_the_listener_notifier_reaches_a_post_call_worker(real_broker: Any, use: Use) -> None:
    """Redis broker (db 14), a thread-pool worker on ``post-call``: the notifier's message is
    delivered, a 503 is retried after 2 s, then the webhook is delivered."""
    from celery.contrib.testing.worker import start_worker

    app = real_broker
    store, sender = use([TryResult(503), TryResult(200)])
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False,
        queues=[POST_CALL_QUEUE],
    ):  # fmt: skip
        tasks_post_call.enqueue_post_call(7)
        deadline = time.monotonic() + 15
        while store.state(7) != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert store.state(7) == "delivered" and len(sender.sent) == 2


def test_a_pause_webhook_is_routed_and_retried_by_celery_until_delivered(
    eager: None, use: Use
) -> None:
    from workers.celery_app import app

    route = app.amqp.router.route({}, tasks_post_call.CAMPAIGN_PAUSED_TASK)
    assert route["queue"].name == POST_CALL_QUEUE
    store, sender = use([TryResult(503), TryResult(200)])
    store.pause_jobs["u-7"] = PauseJob(7, 1, "spring", "https://crm.example/hook")
    args = ("u-7", "5 answered calls in a row abandoned", "2026-11-21T15:00:00+00:00")
    app.tasks[tasks_post_call.CAMPAIGN_PAUSED_TASK].apply(args=args)
    assert len(sender.sent) == 2 and store.pause_jobs["u-7"].delivered
    assert sender.sent[0][1]["reason"] == "5 answered calls in a row abandoned"
    assert sender.sent[0][1]["paused_at"] == "2026-11-21T15:00:00+00:00"
    assert [v for _, _, v, _ in store.pause_tries][:1] == [RetryIn(2)]
