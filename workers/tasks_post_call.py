"""The webhook tasks, all on queue ``post-call``:

- ``dialer.post_call(attempt_id)``: the first try of an ended attempt's ``call.ended``;
- ``dialer.campaign_paused(call_uuid, reason, paused_at)``: the first try of the
  ``campaign.paused`` of a campaign the abandon safety stop paused;
- ``dialer.webhook_sweep()`` (beat, every ``workers.celery_app.WEBHOOK_SWEEP_EVERY_S``):
  claims the deliveries due for a retry and sends a ``dialer.webhook_retry(delivery_id,
  tries)`` for each;
- ``dialer.webhook_retry(delivery_id, tries)``: the next try of one claimed delivery.

A failed try is not retried by Celery: its delivery row is left due at its next try time
(30 s to 12 h later, or the receiver's ``Retry-After``), and the sweep finds it there. So a
retry hours away is never a Celery countdown (with a Redis broker, a message held past the
visibility timeout is delivered again to another worker, and one held by a worker that dies
waits for that timeout), and a worker that dies between tries loses nothing: the row is in
the database. A claimed try whose worker dies is claimed again after the lease
(`dialer.postcall.service.CLAIM_LEASE_S`). The first try's message is acknowledged late, so
a worker that dies during it leaves it to be delivered again. A try already recorded is not
made again (the retry carries the try count it was claimed at), so duplicates are harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import Celery

from dialer.listener.safety import PauseNotice
from dialer.postcall.service import (
    PostCallDeps,
    PostCallResult,
    claim_due_retries,
    deliver_pause_webhook,
    deliver_webhook,
    retry_delivery,
)
from workers.worker import root_of

POST_CALL_TASK = "dialer.post_call"
CAMPAIGN_PAUSED_TASK = "dialer.campaign_paused"
SWEEP_TASK = "dialer.webhook_sweep"
RETRY_TASK = "dialer.webhook_retry"
log = logging.getLogger(__name__)


def enqueue_post_call(attempt_id: int) -> None:
    """The listener's notifier: queue the post-call work of a just-recorded attempt."""
    from workers.celery_app import app

    app.send_task(POST_CALL_TASK, (attempt_id,))


def enqueue_campaign_paused(notice: PauseNotice) -> None:
    """The listener's notifier of a pause: queue its ``campaign.paused`` webhook."""
    from workers.celery_app import app

    paused_at = notice.paused_at.isoformat()
    app.send_task(CAMPAIGN_PAUSED_TASK, (notice.call_uuid, notice.reason, paused_at))


def logged(what: str, result: PostCallResult) -> str:
    """Log a try that failed (its retry, or the give-up); the result's state."""
    if result.state == "waiting":
        log.info("webhook of %s: waiting for the CDR and recording", what)
    elif result.retry_in_s is not None:
        log.info(
            "webhook of %s: try %d failed (%s), next try in %d s",
            what, result.tries, result.detail, result.retry_in_s,
        )  # fmt: skip
    elif result.state == "failed":
        log.warning("webhook of %s: gave up after try %d (%s)", what, result.tries, result.detail)
    return result.state


def sweep_due(app: Celery, deps: PostCallDeps) -> int:
    """Claim the deliveries due now (on ``deps``' clock) and queue a retry of each; the
    number queued. A retry message lost on the way is claimed again after the lease."""
    due = claim_due_retries(deps)
    for claim in due:
        app.send_task(RETRY_TASK, (claim.delivery_id, claim.tries))
    return len(due)


def register_post_call_task(app: Celery) -> None:
    def post_call(attempt_id: int) -> str:
        result = deliver_webhook(int(attempt_id), root_of(app).post_call())
        if result.state == "waiting":  # for the call's CDR and recording: look again soon
            app.send_task(POST_CALL_TASK, (attempt_id,), countdown=result.retry_in_s)
        return logged(f"attempt {attempt_id}", result)

    def campaign_paused(call_uuid: str, reason: str, paused_at: str) -> str:
        at = datetime.fromisoformat(paused_at)
        result = deliver_pause_webhook(call_uuid, reason, at, root_of(app).post_call())
        return logged(f"the pause after call {call_uuid}", result)

    def webhook_sweep() -> int:
        return sweep_due(app, root_of(app).post_call())

    def webhook_retry(delivery_id: int, tries: int) -> str:
        result = retry_delivery(int(delivery_id), int(tries), root_of(app).post_call())
        return logged(f"delivery {delivery_id}", result)

    options: dict[str, Any] = {"acks_late": True, "ignore_result": True}
    app.task(name=POST_CALL_TASK, **options)(post_call)
    app.task(name=CAMPAIGN_PAUSED_TASK, **options)(campaign_paused)
    app.task(name=RETRY_TASK, **options)(webhook_retry)
    app.task(name=SWEEP_TASK, ignore_result=True)(webhook_sweep)
