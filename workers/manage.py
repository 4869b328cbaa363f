"""Wiring of the manager's routes in the API process: campaigns and DNC over the context's
database and switch nodes; lead-list uploads kept under ``DIALER_UPLOAD_DIR`` and imported
by the ``imports`` workers through the Celery app."""

from __future__ import annotations

from pathlib import Path

from campaigns.http import ManageDeps
from campaigns.importer.http import LeadListDeps
from campaigns.importer.service import ImportOptions
from campaigns.importer.wiring import import_deps
from dialer.runner.ports import SwitchProbe
from dialer.runner.wiring import esl_switch_probe
from workers.context import AppContext

__all__ = ["lead_list_deps", "manage_deps"]


def manage_deps(context: AppContext) -> ManageDeps:
    settings = context.settings

    def probe() -> SwitchProbe:
        return esl_switch_probe(settings.freeswitch_nodes, settings.esl_client)

    return ManageDeps(
        context.sessions, context.clock, settings.timezone, probe, settings.default_region
    )


def lead_list_deps(context: AppContext) -> LeadListDeps:
    """Uploads under the settings' upload directory (absolute: the workers read the same
    path), sent to the ``imports`` queue of the process's Celery app."""
    settings = context.settings

    def enqueue(path: Path, options: ImportOptions, task_id: str) -> str:
        from workers.celery_app import app
        from workers.tasks_imports import enqueue_import

        return enqueue_import(app, path, options, task_id)

    def failure(task_id: str) -> str | None:
        from workers.celery_app import app
        from workers.tasks_imports import import_failure

        return import_failure(app, task_id)

    return LeadListDeps(
        sessions=context.sessions,
        store=import_deps(context.sessions, context.clock).store,
        upload_dir=Path(settings.upload_dir).resolve(),
        max_bytes=settings.upload_max_bytes,
        enqueue=enqueue,
        failure=failure,
    )
