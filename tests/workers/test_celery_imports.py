"""The import task: routed to ``imports``, acknowledged late, counts returned; the
``--queue`` flag of ``dialer leads import`` enqueues it (eager, then a real broker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.models import Lead
from workers import tasks_imports
from workers.celery_app import IMPORTS_QUEUE
from workers.cli import app as cli_app
from workers.context import app_context
from workers.worker import WorkerRoot, install_root


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI and the worker's root on one context: a database of this test's own."""
    from workers.celery_app import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    app_context.cache_clear()
    install_root(app, WorkerRoot(app_context()))
    runner = CliRunner()
    created = runner.invoke(cli_app, ["campaigns", "create", "spring", "--queue", "q"])
    assert created.exit_code == 0, created.output
    (tmp_path / "leads.csv").write_text(
        "phone\n13800138000\n13800138001\n13800138001\n12345\n", encoding="utf-8"
    )
    yield runner
    install_root(app, None)
    app_context.cache_clear()


def lead_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Lead)) or 0


def test_import_task_is_routed_and_acknowledged_late() -> None:
    from workers.celery_app import app

    assert app.amqp.router.route({}, tasks_imports.IMPORT_TASK)["queue"].name == IMPORTS_QUEUE
    task = app.tasks[tasks_imports.IMPORT_TASK]
    assert task.acks_late and task.reject_on_worker_lost and not task.ignore_result


def test_queued_import_runs_the_import_service(cli: CliRunner, tmp_path: Path) -> None:
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    try:
        queued = cli.invoke(cli_app, ["leads", "import", "leads.csv", "--campaign", "spring",
                                      "--queue"])  # fmt: skip
        assert queued.exit_code == 0, queued.output
        assert "queued import of leads.csv into spring: task " in queued.output
        assert lead_count(app_context().sessions) == 2
        again = app.tasks[tasks_imports.IMPORT_TASK].apply(
            args=(str(tmp_path / "leads.csv"), "spring")
        )
        counts = again.get()
        assert counts["already_imported"] is True
        assert (counts["rows"], counts["accepted"], counts["duplicate"], counts["invalid"]) == (
            4, 2, 1, 1,
        )  # fmt: skip
        missing = cli.invoke(cli_app, ["leads", "import", "nope.csv", "--campaign", "spring",
                                       "--queue"])  # fmt: skip
        assert missing.exit_code == 1 and "nope.csv: no such file" in missing.output
        unknown = cli.invoke(cli_app, ["leads", "import", "leads.csv", "--campaign", "autumn",
                                       "--queue"])  # fmt: skip
        assert unknown.exit_code == 1 and "no campaign named 'autumn'" in unknown.output
    finally:
        app.conf.update(task_always_eager=False)


@pytest.mark.integration
def test_import_through_a_real_broker_and_worker(
    cli: CliRunner, tmp_path: Path, real_broker: Any, celery_broker_url: str
) -> None:
    """The test broker and a worker on ``imports``: the task's result is the counts."""
    from celery.backends.redis import RedisBackend
    from celery.contrib.testing.worker import start_worker
    from celery.result import AsyncResult

    app = real_broker
    with start_worker(
        app, pool="threads", concurrency=1, perform_ping_check=False, queues=[IMPORTS_QUEUE]
    ):
        started = time.monotonic()
        sent = app.tasks[tasks_imports.IMPORT_TASK].apply_async(
            (str(tmp_path / "leads.csv"), "spring")
        )
        # A backend of its own: this thread's may be bound to an earlier test's Redis.
        backend = RedisBackend(app=app, url=celery_broker_url)
        counts = AsyncResult(sent.id, backend=backend, app=app).get(timeout=20)
    assert counts["accepted"] == 2 and counts["already_imported"] is False
    assert time.monotonic() - started < 20
    assert lead_count(app_context().sessions) == 2
