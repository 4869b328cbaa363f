"""``dialer leads``: import lead files, add DNC entries."""

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
from campaigns.service import CampaignError
from workers.cli.common import console, format_time, parse_time, user_errors
from workers.context import app_context
from workers.tasks_imports import IMPORT_TASK

app = typer.Typer(help="Lead lists: import files; do-not-call entries.", no_args_is_help=True)


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
    queue: bool = typer.Option(
        False, "--queue", help="import in an `imports` worker instead; prints the task id"
    ),
) -> None:
    """Import FILE into a campaign; every row ends accepted, duplicate, dnc or invalid."""
    with user_errors(ImportError_, CampaignError):
        ctx = app_context()
        if queue:
            _enqueue(ctx.sessions, file, campaign, region, phone_column, rejects,
                     dedupe_across_campaigns)  # fmt: skip
            return
        options = ImportOptions(
            campaign=campaign,
            region=region,
            phone_column=phone_column,
            rejects_path=rejects,
            dedupe_across_campaigns=dedupe_across_campaigns,
        )
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

            summary = import_file(import_deps(ctx.sessions, ctx.clock), file, options, on_rows)
        print_summary(summary, time.perf_counter() - started)


def _enqueue(
    sessions: sessionmaker[Session],
    file: Path,
    campaign: str,
    region: str | None,
    phone_column: str | None,
    rejects: Path | None,
    dedupe_across_campaigns: bool,
) -> None:
    """Queue the import for a worker, which must see FILE at the same absolute path."""
    if not file.is_file():
        raise ImportError_(f"{file}: no such file")
    with sessions() as session:
        service.get_campaign(session, campaign)
    from workers.celery_app import app as celery

    result = celery.tasks[IMPORT_TASK].apply_async(
        (str(file.resolve()), campaign, region, phone_column,
         str(rejects.resolve()) if rejects else None, dedupe_across_campaigns),
    )  # fmt: skip
    console.print(f"queued import of {file} into {campaign}: task {result.id}")


def print_summary(summary: ImportSummary, elapsed_s: float) -> None:
    if summary.already_imported:
        console.print("[yellow]this file was imported into the campaign before: nothing added[/]")
    elif summary.resumed_from_row:
        console.print(f"resumed after row {summary.resumed_from_row}")
    table = Table("outcome", "rows", title=f"lead list #{summary.lead_list_id}")
    for outcome in RowOutcome:
        table.add_row(outcome.value, f"{summary.counts[outcome]:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{summary.rows:,}[/bold]")
    console.print(table)
    rate = summary.rows / elapsed_s if elapsed_s > 0 else 0.0
    console.print(f"{elapsed_s:.1f} s, {rate:,.0f} rows/s; rejected rows: {summary.rejects_path}")


@app.command("dnc")
def dnc_cmd(
    value: Annotated[str, typer.Argument(help="a number, or with --prefix a +prefix")],
    prefix: bool = typer.Option(False, "--prefix", help="VALUE is an E.164 prefix (+86138)"),
    campaign: Annotated[str | None, typer.Option(help="only for this campaign")] = None,
    region: Annotated[str, typer.Option(help="region of a number without +country code")] = "CN",
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
            campaign_id = service.get_campaign(session, campaign).id if campaign else None
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


@app.command("release-unknown")
def release_unknown_cmd(
    campaign: Annotated[str | None, typer.Option(help="only this campaign's leads")] = None,
) -> None:
    """Put leads held by an unknown attempt (no event, channel or CDR settled it; the
    customer may have talked to an agent) back to pending, to be dialled again."""
    from campaigns.service import release_unknown_leads
    from dialer.db.base import transaction

    with user_errors(CampaignError):
        ctx = app_context()
        with transaction(ctx.sessions) as session:
            released = release_unknown_leads(session, campaign, ctx.clock.now())
        console.print(f"released {released} lead(s) held by an unknown attempt")
