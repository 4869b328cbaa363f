"""``dialer.import_leads`` (queue ``imports``): one lead file into one campaign, in a worker.

The import is idempotent and resumable (file SHA-256 + a checkpoint committed with each
batch), so the message is acknowledged only after the task finished (``acks_late``) and is
handed back when the process running it dies (``reject_on_worker_lost``): a redelivered
import skips the rows already committed.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from celery import Celery

from campaigns.importer.classify import RowOutcome
from campaigns.importer.service import ImportOptions, ImportSummary, import_file
from workers.worker import root_of

IMPORT_TASK = "dialer.import_leads"


def enqueue_import(
    celery: Celery, path: Path, options: ImportOptions, task_id: str | None = None
) -> str:
    """Send the import of ``path`` (an absolute path the workers see) as ``options`` say to
    the ``imports`` queue; its task id (``task_id`` when given). Nothing waits for the result:
    whoever needs it reads it from the result backend by id (`import_failure`), so the
    result of an earlier run under the same id is forgotten first."""
    if task_id is not None:
        from celery.result import AsyncResult

        AsyncResult(task_id, app=celery).forget()
    result = celery.tasks[IMPORT_TASK].apply_async(
        (str(path), options.campaign, options.region, options.phone_column,
         str(options.rejects_path) if options.rejects_path else None,
         options.dedupe_across_campaigns, options.sheet, options.force),
        task_id=task_id,
    )  # fmt: skip
    if result.backend is not None:  # None: run at once (eager)
        # stop listening for a result nobody waits for here
        result.backend.remove_pending_result(result)
    return str(result.id)


def import_failure(celery: Celery, task_id: str) -> str | None:
    """Why the import task ``task_id`` failed (its exception, as text), or None when it did
    not fail or the result backend no longer knows it."""
    from celery.result import AsyncResult

    result = AsyncResult(task_id, app=celery)
    if result.state != "FAILURE":
        return None
    return f"{type(result.result).__name__}: {result.result}"


def summary_counts(summary: ImportSummary) -> dict[str, Any]:
    """The summary as the task's JSON result: rows by outcome and how the run went."""
    return {
        "lead_list_id": summary.lead_list_id,
        "rows": summary.rows,
        **{outcome.value: summary.counts[outcome] for outcome in RowOutcome},
        "already_imported": summary.already_imported,
        "resumed_from_row": summary.resumed_from_row,
        "rejects_path": str(summary.rejects_path) if summary.rejects_path else None,
    }


def register_import_task(app: Celery) -> None:
    def import_leads(
        path: str,
        campaign: str,
        region: str | None = None,
        phone_column: str | None = None,
        rejects: str | None = None,
        dedupe_across_campaigns: bool = False,
        sheet: str | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        options = ImportOptions(
            campaign=campaign,
            region=region,
            phone_column=phone_column,
            rejects_path=Path(rejects) if rejects else None,
            dedupe_across_campaigns=dedupe_across_campaigns,
            sheet=sheet,
            force=force,
            # A prefork pool's processes are daemonic and may not start classifying
            # processes: there the pool's own concurrency is the parallelism.
            workers=0 if multiprocessing.current_process().daemon else None,
        )
        return summary_counts(import_file(root_of(app).lead_import(), Path(path), options))

    app.task(name=IMPORT_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=False)(
        import_leads
    )
