"""``dialer.post_call(attempt_id)`` (queue ``post-call``): the webhook of an ended attempt.

The listener enqueues it after the attempt's row is committed (`enqueue_post_call`). One
try per run; a failed try that may succeed later is retried by Celery after the delay the
service chose (2, 4, 8, 16, 32 s); the delivery row counts the tries and bounds them. A
delivered attempt is never sent again, so duplicate messages are harmless (``acks_late``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from dialer.postcall.service import deliver_webhook
from workers.worker import root_of

POST_CALL_TASK = "dialer.post_call"
log = logging.getLogger(__name__)


def enqueue_post_call(attempt_id: int) -> None:
    """The listener's notifier: queue the post-call work of a just-recorded attempt."""
    from workers.celery_app import app

    app.send_task(POST_CALL_TASK, (attempt_id,))


def register_post_call_task(app: Celery) -> None:
    def post_call(task: Any, attempt_id: int) -> str:
        result = deliver_webhook(int(attempt_id), root_of(app).post_call())
        if result.retry_in_s is not None:
            log.info(
                "webhook of attempt %s: try %d failed (%s), retry in %d s",
                attempt_id, result.tries, result.detail, result.retry_in_s,
            )  # fmt: skip
            raise task.retry(countdown=result.retry_in_s)
        return result.state

    # The delivery row bounds the tries (the service gives up), not Celery's retry count.
    options = {"bind": True, "acks_late": True, "ignore_result": True, "max_retries": None}
    app.task(name=POST_CALL_TASK, **options)(post_call)
