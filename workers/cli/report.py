"""``dialer report cost``: cost and minutes per campaign, trunk and day, from the CDRs."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from dialer.cdr.adapters import campaign_names
from dialer.cdr.report import total
from dialer.cdr.service import cost_between
from dialer.cdr.wiring import cdr_store
from workers.cli.common import format_time, parse_time, print_whole, user_errors
from workers.context import app_context

app = typer.Typer(help="Reports over the calls the switch recorded.", no_args_is_help=True)
DEFAULT_DAYS = 7


@app.command("cost")
def cost_cmd(
    since: Annotated[
        str | None,
        typer.Option(help="first call start, ISO-8601 (default: 7 days ago, at midnight)"),
    ] = None,
    until: Annotated[str | None, typer.Option(help="end, ISO-8601 (default: now)")] = None,
    campaign: Annotated[str | None, typer.Option(help="only this campaign")] = None,
) -> None:
    """Calls, answered, billsec, billed minutes (the trunks' increments) and cost per
    campaign, trunk and day (DIALER_TIMEZONE), from the stored CDRs."""
    with user_errors(ValueError):
        ctx = app_context()
        zone_name = ctx.settings.timezone
        zone = ZoneInfo(zone_name)
        now = ctx.clock.now()
        end = parse_time(until, zone_name, "--until") if until else now
        if since:
            start = parse_time(since, zone_name, "--since")
        else:
            first_day = (now.astimezone(zone) - timedelta(days=DEFAULT_DAYS - 1)).date()
            start = datetime.combine(first_day, time(), zone)
        names = campaign_names(ctx.sessions)
        rows = cost_between(cdr_store(ctx.sessions), start, end, zone, names, campaign)
    title = f"cost from {format_time(start, zone_name)} to {format_time(end, zone_name)}"
    table = Table("campaign", "trunk", "day", "calls", "answered", "billsec", "billed min",
                  "cost", "unpriced", "queue wait s", title=title)  # fmt: skip
    for r in rows:
        wait = "-" if r.queue_wait_s is None else f"{r.queue_wait_s:.1f}"
        table.add_row(r.campaign or "-", r.trunk or "-", r.day.isoformat(), str(r.calls),
                      str(r.answered), str(r.billsec), f"{r.billed_min:.2f}", f"{r.cost:.4f}",
                      str(r.unpriced), wait)  # fmt: skip
    calls, answered, billed_min, cost = total(rows)
    table.add_row("[bold]total[/bold]", "", "", str(calls), str(answered), "",
                  f"{billed_min:.2f}", f"{cost:.4f}", "", "")  # fmt: skip
    print_whole(table)
