"""Tasks of the API calls: ``dialer.api_call_ended(call_uuid)`` (queue ``post-call``): the
``call.ended`` webhook of an ended API call, retried after the delay the service chose;
``dialer.dispatch_callbacks`` (queue ``pacing``, run by beat every
`DISPATCH_CALLBACKS_EVERY_S`): dial the callbacks due now whose agent is free.

The listener enqueues the first after the call's end is committed (`enqueue_api_call_ended`).
Both are thin: decode, call `dialer.apicalls`, return.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from dialer.apicalls.callbacks import dispatch_callbacks
from dialer.apicalls.webhook import deliver_call_webhook
from workers.worker import root_of

API_CALL_ENDED_TASK = "dialer.api_call_ended"
DISPATCH_CALLBACKS_TASK = "dialer.dispatch_callbacks"
DISPATCH_CALLBACKS_EVERY_S = 2.0
log = logging.getLogger(__name__)


def enqueue_api_call_ended(call_uuid: str) -> None:
    """The listener's notifier: queue the webhook of a just-ended API call."""
    from workers.celery_app import app

    app.send_task(API_CALL_ENDED_TASK, (call_uuid,))


def register_api_call_tasks(app: Celery) -> None:
    def api_call_ended(task: Any, call_uuid: str) -> str:
        root = root_of(app)
        deps = root.post_call()
        result = deliver_call_webhook(
            call_uuid, root.api_calls().store, deps.sender, deps.clock, deps.max_tries
        )
        if result.retry_in_s is not None:
            log.info("webhook of API call %s: retry in %d s", call_uuid, result.retry_in_s)
            raise task.retry(countdown=result.retry_in_s)
        return result.state

    def dispatch() -> int:
        from workers.tasks import worker_id

        stats = dispatch_callbacks(root_of(app).api_calls(), worker_id())
        return stats.dialled

    options = {"bind": True, "acks_late": True, "ignore_result": True, "max_retries": None}
    app.task(name=API_CALL_ENDED_TASK, **options)(api_call_ended)
    app.task(name=DISPATCH_CALLBACKS_TASK, ignore_result=True)(dispatch)
