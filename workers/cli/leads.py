"""``dialer leads``: import lead files, list, delete or archive lead lists, add DNC entries."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.dnc import DncError, add_entry
from campaigns.importer.classify import RowOutcome
from campaigns.importer.service import ImportError_, ImportOptions, ImportSummary, import_file
from campaigns.importer.wiring import import_deps
from campaigns.lead_lists import (
    LeadListError,
    archive_list,
    delete_list,
    find_list,
    list_lead_lists,
)
from campaigns.service import CampaignError
from workers.cli.common import console, format_time, parse_time, print_whole, user_errors
from workers.context import app_context
from workers.tasks_imports import enqueue_import

app = typer.Typer(
    help="Lead lists: import files, list, delete or archive them; do-not-call entries.",
    no_args_is_help=True,
)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (any delimiter; UTF-8 or GBK) or XLSX file")],
    campaign: Annotated[str, typer.Option(help="campaign to add the leads to")],
    region: Annotated[str | None, typer.Option(help="region of numbers without +country")] = None,
    phone_column: Annotated[
        str | None, typer.Option(help="phone column's name or 1-based index")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="where to write rejected rows")] = None,
    dedupe_across_campaigns: bool = typer.Option(False, help="also skip leads of other campaigns"),
    sheet: Annotated[
        str | None, typer.Option(help="XLSX/XLS: the sheet's name or 1-based index (default: 1)")
    ] = None,
    force: bool = typer.Option(
        False, "--force", help="import a file imported before again, as a new lead list"
    ),
    queue: bool = typer.Option(
        False,
        "--queue",
        help="import in a worker listening on `imports` instead (checked); prints the task id",
    ),
) -> None:
    """Import FILE into a campaign; every row ends accepted, duplicate, dnc or invalid."""
    with user_errors(ImportError_, CampaignError):
        ctx = app_context()
        if queue:
            _enqueue(ctx.sessions, file, campaign, region, phone_column, rejects,
                     dedupe_across_campaigns, sheet, force)  # fmt: skip
            return
        options = ImportOptions(
            campaign=campaign,
            region=region,
            phone_column=phone_column,
            rejects_path=rejects,
            dedupe_across_campaigns=dedupe_across_campaigns,
            sheet=sheet,
            force=force,
        )
        deps = import_deps(ctx.sessions, ctx.clock)  # the database, before the progress bar
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]importing[/bold]"),
            BarColumn(pulse_style="cyan"),
            TextColumn("{task.completed:,.0f} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("import", total=None, rate=0.0)

            def on_rows(n: int) -> None:
                progress.advance(task, n)
                done = progress.tasks[0].completed
                progress.update(task, rate=done / max(time.perf_counter() - started, 1e-9))

            summary = import_file(deps, file, options, on_rows)
        print_summary(summary, time.perf_counter() - started)


def _enqueue(
    sessions: sessionmaker[Session],
    file: Path,
    campaign: str,
    region: str | None,
    phone_column: str | None,
    rejects: Path | None,
    dedupe_across_campaigns: bool,
    sheet: str | None,
    force: bool,
) -> None:
    """Queue the import for a worker, which must see FILE at the same absolute path."""
    if not file.is_file():
        raise ImportError_(f"{file}: no such file")
    with sessions() as session:
        service.get_campaign(session, campaign)
    from workers.celery_app import IMPORTS_QUEUE, listening_workers
    from workers.celery_app import app as celery

    if not celery.conf.task_always_eager and not listening_workers(celery, IMPORTS_QUEUE):
        raise ImportError_(
            f"no worker is listening on the {IMPORTS_QUEUE!r} queue: start one with "
            f"`dialer up` or `dialer worker --queues {IMPORTS_QUEUE} --pool prefork`, "
            "or import without --queue"
        )
    options = ImportOptions(
        campaign=campaign,
        region=region,
        phone_column=phone_column,
        rejects_path=rejects.resolve() if rejects else None,
        dedupe_across_campaigns=dedupe_across_campaigns,
        sheet=sheet,
        force=force,
    )
    task_id = enqueue_import(celery, file.resolve(), options)
    console.print(f"queued import of {file} into {campaign}: task {task_id}")


def print_summary(summary: ImportSummary, elapsed_s: float) -> None:
    if summary.already_imported:
        counts = ", ".join(f"{summary.counts[o]:,} {o.value}" for o in RowOutcome)
        console.print(
            f"[yellow]nothing added: this file's content was imported into the campaign before, "
            f"as lead list #{summary.lead_list_id} ({summary.list_name}: {counts}). To import "
            f"it again: --force (a new list), or `dialer leads delete-list "
            f"{summary.lead_list_id}` first[/]",
            highlight=False,
        )
        return
    if summary.resumed_from_row:
        console.print(f"resumed after row {summary.resumed_from_row}")
    table = Table("outcome", "rows", title=f"lead list #{summary.lead_list_id}")
    for outcome in RowOutcome:
        table.add_row(outcome.value, f"{summary.counts[outcome]:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{summary.rows:,}[/bold]")
    console.print(table)
    rate = summary.rows / elapsed_s if elapsed_s > 0 else 0.0
    console.print(f"{elapsed_s:.1f} s, {rate:,.0f} rows/s; rejected rows: {summary.rejects_path}")
    if summary.none_accepted and not summary.already_imported:
        console.print(
            f"[yellow]no row was accepted: every phone number in column "
            f"{summary.phone_column!r} (read in region {summary.region}) is invalid (reasons in "
            f"{summary.rejects_path}). A wrong --phone-column or --region? Then `dialer leads "
            f"delete-list {summary.lead_list_id}` and import the file again[/]",
            highlight=False,
            soft_wrap=True,
        )


@app.command("dnc")
def dnc_cmd(
    value: Annotated[str, typer.Argument(help="a number, or with --prefix a +prefix")],
    prefix: bool = typer.Option(False, "--prefix", help="VALUE is an E.164 prefix (+86138)"),
    campaign: Annotated[str | None, typer.Option(help="only for this campaign")] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="region of a number without +country (default: the campaign's, else "
            "DIALER_DEFAULT_REGION)"
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="why, kept with the entry")] = "",
    expires: Annotated[
        str | None,
        typer.Option(
            help="when it lapses, ISO-8601 (no offset: DIALER_TIMEZONE); never if not given"
        ),
    ] = None,
) -> None:
    """Add a do-not-call number or prefix; the pending leads it covers turn dnc at once."""
    with user_errors(DncError, CampaignError):
        ctx = app_context()
        zone = ctx.settings.timezone
        expires_at = parse_time(expires, zone, "--expires") if expires else None
        with ctx.sessions.begin() as session:
            found = service.get_campaign(session, campaign) if campaign else None
            campaign_id = found.id if found else None
            region = region or (found.default_region if found else ctx.settings.default_region)
            added = add_entry(
                session, value, region=region, now=ctx.clock.now(), is_prefix=prefix,
                campaign_id=campaign_id, reason=reason, expires_at=expires_at,
            )  # fmt: skip
            until = f" until {format_time(expires_at, zone)}" if expires_at else ""
            kind = "prefix" if added.entry.is_prefix else "number"
            console.print(
                f"DNC {kind} {added.entry.number} added{until}; "
                f"{added.leads_marked:,} pending leads marked dnc"
            )


@app.command("lists")
def lists_cmd(
    campaign: Annotated[str | None, typer.Option(help="only this campaign's lists")] = None,
) -> None:
    """Each lead list: its file, campaign, when imported, rows by outcome, leads dialled."""
    with user_errors(CampaignError):
        ctx = app_context()
        zone = ctx.settings.timezone
        with ctx.sessions() as session:
            if campaign is not None:
                service.get_campaign(session, campaign)
            found = list_lead_lists(session, campaign)
        table = Table(
            "id", "file", "campaign", "imported at", "rows", "accepted", "duplicate", "dnc",
            "invalid", "dialled", "status", title="lead lists",
        )  # fmt: skip
        for row in found:
            table.add_row(
                str(row.lead_list_id), row.file_name, row.campaign,
                format_time(row.imported_at, zone), f"{row.rows:,}", f"{row.accepted:,}",
                f"{row.duplicate:,}", f"{row.dnc:,}", f"{row.invalid:,}", f"{row.dialled:,}",
                row.status,
            )  # fmt: skip
        print_whole(table)


@app.command("delete-list")
def delete_list_cmd(
    lead_list: Annotated[str, typer.Argument(help="the list's id, or its file name")],
    campaign: Annotated[str | None, typer.Option(help="the campaign of a list named")] = None,
    archive: bool = typer.Option(
        False, "--archive", help="keep the list for the records; its leads are never claimed"
    ),
) -> None:
    """Delete a lead list and its leads, if none was dialled; or --archive it."""
    with user_errors(LeadListError):
        ctx = app_context()
        with ctx.sessions.begin() as session:
            found = find_list(session, lead_list, campaign)
            if archive:
                archive_list(session, found)
                console.print(f"lead list #{found.id} ({found.name}) archived: its leads are "
                              "never claimed")  # fmt: skip
                return
            removed = delete_list(session, found)
            console.print(f"lead list #{found.id} ({found.name}) deleted with its "
                          f"{removed:,} leads")  # fmt: skip


@app.command("release-unknown")
def release_unknown_cmd(
    campaign: Annotated[str | None, typer.Option(help="only this campaign's leads")] = None,
) -> None:
    """Put leads held by an unknown attempt (no event, channel or CDR settled it; the
    customer may have talked to an agent) back to pending, to be dialled again."""
    with user_errors(CampaignError):
        ctx = app_context()
        with ctx.sessions.begin() as session:
            released = service.release_unknown_leads(session, campaign, ctx.clock.now())
        console.print(f"released {released} lead(s) held by an unknown attempt")
