"""The purge of recordings past their retention runs on beat's schedule, through Celery,
with ``DIALER_RECORDINGS_RETENTION_DAYS``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialer.config import load_settings
from dialer.recordings.adapters import LocalRecordingStorage
from tests.support.clock import FakeClock
from workers.celery_app import POST_CALL_QUEUE, celery_config
from workers.context import AppContext
from workers.tasks_recordings import PURGE_RECORDINGS_TASK
from workers.worker import WorkerRoot, install_root

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
OLD = "11111111-1111-4111-8111-111111111111"
KEPT = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def eager() -> Iterator[None]:
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=False)
    install_root(app, None)


def test_the_purge_is_on_beats_schedule_and_routed_to_post_call() -> None:
    from workers.celery_app import app

    schedule = celery_config(load_settings())["beat_schedule"]
    assert schedule["purge-recordings"]["task"] == PURGE_RECORDINGS_TASK
    assert schedule["purge-recordings"]["schedule"] <= 86_400
    assert app.amqp.router.route({}, PURGE_RECORDINGS_TASK)["queue"].name == POST_CALL_QUEUE


def test_the_task_deletes_what_is_past_the_retention_setting(eager: None, tmp_path: Path) -> None:
    from workers.celery_app import app

    storage = LocalRecordingStorage(tmp_path / "rec")
    storage.put(OLD, "wav", b"RIFF-old", NOW - timedelta(days=8))
    storage.put(KEPT, "wav", b"RIFF-new", NOW - timedelta(days=6))
    settings = load_settings(recordings_dir=str(tmp_path / "rec"), recordings_retention_days=7)
    install_root(app, WorkerRoot(AppContext(settings, clock=FakeClock(NOW))))
    removed = app.tasks[PURGE_RECORDINGS_TASK].apply().get()
    assert removed == 1
    assert storage.get(OLD) is None and storage.get(KEPT) is not None
