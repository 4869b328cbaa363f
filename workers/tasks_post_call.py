"""``dialer.post_call(attempt_id)`` (queue ``post-call``): the webhook of an ended attempt;
``dialer.campaign_paused(call_uuid, reason, paused_at)`` (same queue): the ``campaign.paused``
webhook of a campaign the abandon safety stop paused, sent and retried the same way.

The listener enqueues it after the attempt's row is committed (`enqueue_post_call`). One
try per run; a failed try that may succeed later is retried by Celery after the delay the
service chose (2, 4, 8, 16, 32 s); the delivery row counts the tries and bounds them. A
delivered attempt is never sent again, so duplicate messages are harmless (``acks_late``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import Celery

from dialer.listener.safety import PauseNotice
from dialer.postcall.service import PostCallResult, deliver_pause_webhook, deliver_webhook
from workers.worker import root_of

POST_CALL_TASK = "dialer.post_call"
CAMPAIGN_PAUSED_TASK = "dialer.campaign_paused"
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


def _retry_if_asked(task: Any, what: str, result: PostCallResult) -> str:
    if result.retry_in_s is not None:
        log.info(
            "webhook of %s: try %d failed (%s), retry in %d s",
            what, result.tries, result.detail, result.retry_in_s,
        )  # fmt: skip
        raise task.retry(countdown=result.retry_in_s)
    return result.state


def register_post_call_task(app: Celery) -> None:
    def post_call(task: Any, attempt_id: int) -> str:
        result = deliver_webhook(int(attempt_id), root_of(app).post_call())
        return _retry_if_asked(task, f"attempt {attempt_id}", result)

    def campaign_paused(task: Any, call_uuid: str, reason: str, paused_at: str) -> str:
        at = datetime.fromisoformat(paused_at)
        result = deliver_pause_webhook(call_uuid, reason, at, root_of(app).post_call())
        return _retry_if_asked(task, f"the pause after call {call_uuid}", result)

    # The delivery row bounds the tries (the service gives up), not Celery's retry count.
    options = {"bind": True, "acks_late": True, "ignore_result": True, "max_retries": None}
    app.task(name=POST_CALL_TASK, **options)(post_call)
    app.task(name=CAMPAIGN_PAUSED_TASK, **options)(campaign_paused)
