"""The recordings task: ``dialer.purge_recordings``, run by beat (`PURGE_RECORDINGS_EVERY_S`,
queue ``post-call``), deletes the recordings older than
``DIALER_RECORDINGS_RETENTION_DAYS`` as ``dialer recordings purge`` does."""

from __future__ import annotations

import logging

from celery import Celery

from dialer.recordings.service import purge_expired
from dialer.recordings.wiring import recording_deps
from workers.worker import root_of

__all__ = ["PURGE_RECORDINGS_TASK", "register_recording_tasks"]

log = logging.getLogger(__name__)

PURGE_RECORDINGS_TASK = "dialer.purge_recordings"


def register_recording_tasks(app: Celery) -> None:
    def purge_recordings() -> int:
        ctx = root_of(app).context
        deps = recording_deps(ctx.settings, ctx.clock)
        removed = purge_expired(deps)
        log.info("%d recording(s) older than %d days deleted", removed, deps.retention_days)
        return removed

    app.task(name=PURGE_RECORDINGS_TASK, ignore_result=True)(purge_recordings)
