"""Thin Celery tasks: decode arguments, call `dialer.runner.service`, hand on, return.

The import and post-call tasks are in `workers.tasks_imports` and `workers.tasks_post_call`,
registered here too; every task works with its process's root (`workers.worker.root_of`).

``dialer.pace(campaign_id, owner, token)`` paces one campaign for one slice and re-enqueues
itself under the same lease (message expiry = the lease TTL: a hand-off that waited longer
finds its lease gone anyway). ``dialer.supervise()`` (beat, every 2 s) enqueues a first slice
for each running campaign whose lease lapsed; a short Redis marker per campaign keeps several
beats or slow workers from piling up duplicates, and duplicates that do get through lose the
lease race at once.

A slice lives through a backend outage (`dialer.runner.service`): its ticks are retried with
backoff, and it beats its heartbeat (loop ``pace-<campaign id>`` of process ``worker``) on
every tick; a slice that hands on keeps it, one that stops removes it.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from celery import Celery

from dialer.backend_errors import is_backend_error
from dialer.liveness.service import LoopBeat
from dialer.liveness.wiring import heartbeat_store
from dialer.runner.service import SliceResult, lapsed_campaigns, pace_slice
from workers import tasks_api_calls, tasks_imports, tasks_post_call, tasks_recordings
from workers.worker import root_of

KICK_TTL_S = 3
# A pacing loop beats every tick; between two slices it waits for its hand-off (at most the
# lease TTL) and a slow tick.
PACE_STALE_AFTER_S = 60.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def register_tasks(app: Celery) -> None:
    def pace(campaign_id: int, owner: str | None = None, token: int | None = None) -> str:
        root = root_of(app)
        settings = root.context.settings
        deps = root.pacing.tick_deps()
        heartbeat = LoopBeat(
            heartbeat_store(settings.health_dir), "worker", f"pace-{campaign_id}",
            PACE_STALE_AFTER_S, deps.clock,
        )  # fmt: skip
        result: SliceResult = pace_slice(
            int(campaign_id),
            owner or worker_id(),
            token,
            deps,
            period_s=settings.pacing_period_s,
            slice_s=settings.pacing_slice_s,
            transient=is_backend_error,
            beat=heartbeat.beat,
        )
        if result.lease is None and not result.reason.startswith("backend down"):
            heartbeat.stopped()
        if result.lease is not None:
            ttl_s = deps.config.lease_ttl_ms / 1000
            lease = result.lease
            pace_task.apply_async((lease.campaign_id, lease.owner, lease.token), expires=ttl_s)
        return result.reason

    def supervise() -> list[int]:
        pacing = root_of(app).pacing
        started = []
        for campaign_id in lapsed_campaigns(pacing.leases, pacing.running_campaigns()):
            if pacing.kick(campaign_id, KICK_TTL_S):
                pace_task.apply_async((campaign_id,), expires=KICK_TTL_S)
                started.append(campaign_id)
        return started

    pace_task: Any = app.task(name="dialer.pace", ignore_result=True)(pace)
    app.task(name="dialer.supervise", ignore_result=True)(supervise)
    tasks_imports.register_import_task(app)
    tasks_post_call.register_post_call_task(app)
    tasks_api_calls.register_api_call_tasks(app)
    tasks_recordings.register_recording_tasks(app)
