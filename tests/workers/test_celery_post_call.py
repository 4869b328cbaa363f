"""The webhook tasks through Celery: routed to ``post-call``; a failed first try is left due
in its delivery row, not retried by Celery; the sweep claims due deliveries and queues a
retry for each (eager, and through a real broker and worker); a worker killed between tries
loses no delivery (real worker processes, PostgreSQL or SQLite, a receiver on loopback)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import WebhookDelivery
from dialer.config import load_settings
from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import PauseJob, Target, WebhookJob
from dialer.postcall.service import PostCallDeps
from dialer.postcall.signing import verify
from dialer.postcall.webhooks import MAX_TRIES, RETRY_DELAYS_S, AttemptRecord, RetryIn, TryResult
from dialer.postcall.wiring import post_call_deps
from tests.dialer.postcall.test_postcall_webhook_http import ended_call
from tests.support.clock import FakeClock
from tests.support.procs import DialerRun, kill_all
from tests.support.waiting import wait_until
from tests.support.webhooks import Reply, receiving
from workers import tasks_post_call
from workers.celery_app import POST_CALL_QUEUE
from workers.context import AppContext
from workers.worker import WorkerRoot, install_root

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
TARGET = Target("https://crm.example/hook", "whsec_celery-test-secret-0")
START_S = 90.0  # a worker start on a loaded machine: imports, migrations, Celery


def job() -> WebhookJob:
    record = AttemptRecord(
        attempt_id=7, call_uuid="u-7", campaign_id=1, campaign="spring", lead_id=42,
        number_e164="+8613800138000", attempt_no=1, outcome="connected", abandoned=False,
        originated_at=NOW - timedelta(seconds=60), answered_at=NOW, connected_at=NOW,
        ended_at=NOW, agent="1001", trunk="carrier1", hangup_cause="NORMAL_CLEARING",
    )  # fmt: skip
    return WebhookJob(record, TARGET)


@pytest.fixture
def eager() -> Iterator[None]:
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=False)


Use = Callable[[list[TryResult]], tuple[MemoryDeliveries, ScriptedSender, PostCallDeps]]


@pytest.fixture
def use() -> Iterator[Use]:
    """``use(results)``: the worker's root with the post-call work on a delivery store of
    one attempt (7), a sender answering ``results`` in turn, and a manual clock."""
    from workers.celery_app import app

    def install(results: list[TryResult]) -> tuple[MemoryDeliveries, ScriptedSender, PostCallDeps]:
        store = MemoryDeliveries({7: job()})
        sender = ScriptedSender(results)
        deps = PostCallDeps(store, sender, FakeClock(NOW), MAX_TRIES)
        install_root(app, WorkerRoot(AppContext(load_settings()), post_call=deps))
        return store, sender, deps

    yield install
    install_root(app, None)


def clock_of(deps: PostCallDeps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def test_the_webhook_tasks_are_routed_to_their_queue_and_swept_by_beat() -> None:
    from workers.celery_app import app

    for task in ("dialer.post_call", "dialer.campaign_paused", "dialer.webhook_sweep",
                 "dialer.webhook_retry"):  # fmt: skip
        assert app.amqp.router.route({}, task)["queue"].name == POST_CALL_QUEUE
    assert app.tasks["dialer.post_call"].acks_late and app.tasks["dialer.webhook_retry"].acks_late
    assert app.conf.beat_schedule["sweep-webhooks"]["task"] == "dialer.webhook_sweep"


def test_a_failed_first_try_is_left_due_for_the_sweep_not_retried_by_celery(
    eager: None, use: Use
) -> None:
    from workers.celery_app import app

    store, sender, deps = use([TryResult(503), TryResult(200)])
    assert app.tasks["dialer.post_call"].apply(args=(7,)).get() == "retrying"
    assert len(sender.sent) == 1 and store.state(7) == "retrying"
    assert [v for _, _, v, _ in store.tries] == [RetryIn(RETRY_DELAYS_S[0])]
    clock_of(deps).advance(RETRY_DELAYS_S[0])
    [claim] = store.claim_due(clock_of(deps).now(), 300, 10)
    retry = app.tasks["dialer.webhook_retry"]
    assert retry.apply(args=(claim.delivery_id, claim.tries)).get() == "delivered"
    assert retry.apply(args=(claim.delivery_id, claim.tries)).get() == "stale"  # duplicate
    assert len(sender.sent) == 2 and store.state(7) == "delivered"


def test_a_client_error_is_not_retried(eager: None, use: Use) -> None:
    from workers.celery_app import app

    store, sender, deps = use([TryResult(404)])
    assert app.tasks["dialer.post_call"].apply(args=(7,)).get() == "failed"
    assert len(sender.sent) == 1
    assert store.claim_due(clock_of(deps).now() + timedelta(days=2), 300, 10) == []


def test_a_pause_webhook_is_routed_tried_then_retried_from_its_row(eager: None, use: Use) -> None:
    from workers.celery_app import app

    store, sender, deps = use([TryResult(503), TryResult(200)])
    store.pause_jobs["u-7"] = PauseJob(7, 1, "spring", TARGET)
    args = ("u-7", "5 answered calls in a row abandoned", "2026-11-21T15:00:00+00:00")
    assert app.tasks[tasks_post_call.CAMPAIGN_PAUSED_TASK].apply(args=args).get() == "retrying"
    clock_of(deps).advance(RETRY_DELAYS_S[0])
    [claim] = store.claim_due(clock_of(deps).now(), 300, 10)
    app.tasks["dialer.webhook_retry"].apply(args=(claim.delivery_id, claim.tries))
    assert len(sender.sent) == 2 and store.pause_jobs["u-7"] == PauseJob(
        7, 1, "spring", TARGET
    )  # the job as given: its tries are counted in the store
    assert store.pause_job("u-7") == PauseJob(7, 1, "spring", TARGET, 2, True)
    assert sender.sent[0][1]["reason"] == "5 answered calls in a row abandoned"
    assert sender.sent[1][1] == sender.sent[0][1]  # the first body, again


@pytest.mark.integration
def test_the_notifier_and_the_sweep_reach_a_post_call_worker(real_broker: Any, use: Use) -> None:
    """Redis broker, a thread-pool worker on ``post-call``: the notifier's message is tried
    (503), the sweep on the worker's clock 30 s later queues the retry, which delivers."""
    from celery.contrib.testing.worker import start_worker

    app = real_broker
    store, sender, deps = use([TryResult(503), TryResult(200)])
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False,
        queues=[POST_CALL_QUEUE],
    ):  # fmt: skip
        tasks_post_call.enqueue_post_call(7)
        assert wait_until(lambda: store.state(7) == "retrying", 15)
        assert tasks_post_call.sweep_due(app, deps) == 0  # not due yet
        clock_of(deps).advance(RETRY_DELAYS_S[0])
        assert tasks_post_call.sweep_due(app, deps) == 1
        assert wait_until(lambda: store.state(7) == "delivered", 15)
    assert len(sender.sent) == 2


def _delivery(sessions: sessionmaker[Session]) -> tuple[str, int] | None:
    with sessions() as session:
        row = session.scalars(select(WebhookDelivery)).one_or_none()
        return None if row is None else (row.state, row.tries)


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_killed_between_tries_loses_no_delivery(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session], real_broker: Any
) -> None:
    """A real worker process tries (503) and is killed with SIGKILL; the delivery is in the
    database, due. Beat's sweep (run here, on a clock past the due time) claims it and queues
    the retry; a new worker process delivers it, signed for its own try."""
    app = real_broker
    with receiving() as receiver:
        receiver.script(Reply(503, "busy"), Reply(200))
        attempt_id, secret = ended_call(sessions, f"{receiver.base_url}/calls")
        run = DialerRun(
            tmp_path,
            {"DIALER_DATABASE_URL": db_url, "DIALER_REDIS_URL": app.conf.broker_url,
             "DIALER_HEALTH_DIR": str(tmp_path / "health")},
        )  # fmt: skip
        argv = ("worker", "--queues", POST_CALL_QUEUE, "--concurrency", "2", "--loglevel", "info")
        try:
            first = run.start(*argv, "--name", "first", log=tmp_path / "first.log")
            tasks_post_call.enqueue_post_call(attempt_id)
            tried = wait_until(lambda: _delivery(sessions) == ("retrying", 1), START_S)
            assert tried, (tmp_path / "first.log").read_text(errors="replace")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
            assert wait_until(lambda: not run.alive(), 30), run.alive()
            # beat's sweep once the try is due (no worker is running now)
            later = FakeClock(datetime.now(UTC) + timedelta(seconds=RETRY_DELAYS_S[0]))
            assert tasks_post_call.sweep_due(app, post_call_deps(sessions, later)) == 1
            run.start(*argv, "--name", "second", log=tmp_path / "second.log")
            delivered = wait_until(lambda: _delivery(sessions) == ("delivered", 2), START_S)
            assert delivered, (tmp_path / "second.log").read_text(errors="replace")
        finally:
            kill_all(run)
    assert [r.headers["x-dialer-delivery"] for r in receiver.requests] == ["u-1", "u-1"]
    assert receiver.requests[0].body == receiver.requests[1].body
    for request in receiver.requests:
        assert verify(secret, request.headers["x-dialer-signature"], request.body, int(time.time()))


def test_a_webhook_waiting_for_its_recording_looks_again_later(
    eager: None, use: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from workers.celery_app import app

    store, sender, _ = use([TryResult(200)])
    store.jobs[7] = WebhookJob(replace(job().record, recorded=True), TARGET)
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: queued.append((name, args, kw)))
    assert app.tasks[tasks_post_call.POST_CALL_TASK].apply((7,)).get() == "waiting"
    assert queued == [(tasks_post_call.POST_CALL_TASK, (7,), {"countdown": 10})]
    assert sender.sent == []
