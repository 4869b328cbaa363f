"""Tasks of the API calls: ``dialer.api_call_ended(call_uuid)`` (queue ``post-call``): the
ended API call's agent takes queue calls again (`dialer.apicalls.holds`), and the first try
of its ``call.ended`` webhook (a failed try is left in the delivery store for beat's
``dialer.webhook_sweep``, as a campaign call's: no Celery countdown);
``dialer.dispatch_callbacks`` (queue ``pacing``, run by beat every
`DISPATCH_CALLBACKS_EVERY_S`): dial the callbacks due now whose agent is free.

The listener enqueues the first after the call's end is committed (`enqueue_api_call_ended`).
Both are thin: decode, call `dialer.apicalls`, return.
"""

from __future__ import annotations

from celery import Celery

from dialer.apicalls.callbacks import dispatch_callbacks
from dialer.apicalls.holds import release_agent_of
from dialer.apicalls.webhook import deliver_call_webhook
from workers.tasks_post_call import logged
from workers.worker import root_of

API_CALL_ENDED_TASK = "dialer.api_call_ended"
DISPATCH_CALLBACKS_TASK = "dialer.dispatch_callbacks"
DISPATCH_CALLBACKS_EVERY_S = 2.0


def enqueue_api_call_ended(call_uuid: str) -> None:
    """The listener's notifier: queue the webhook of a just-ended API call."""
    from workers.celery_app import app

    app.send_task(API_CALL_ENDED_TASK, (call_uuid,))


def register_api_call_tasks(app: Celery) -> None:
    def api_call_ended(call_uuid: str) -> str:
        root = root_of(app)
        calls = root.api_calls()
        release_agent_of(calls.store, calls.holds, call_uuid)
        result = deliver_call_webhook(call_uuid, calls.store, root.post_call())
        return logged(f"API call {call_uuid}", result)

    def dispatch() -> int:
        from workers.tasks import worker_id

        stats = dispatch_callbacks(root_of(app).api_calls(), worker_id())
        return stats.dialled

    app.task(name=API_CALL_ENDED_TASK, acks_late=True, ignore_result=True)(api_call_ended)
    app.task(name=DISPATCH_CALLBACKS_TASK, ignore_result=True)(dispatch)
