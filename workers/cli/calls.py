"""``dialer calls``: dispositions of finished calls; one call's record and webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from dialer.postcall.adapters import SqlDispositionStore, describe_call
from dialer.postcall.dispositions import DispositionError, DispositionRequest, parse_code
from dialer.postcall.service import set_disposition
from workers.cli.common import console, user_errors
from workers.context import app_context

app = typer.Typer(help="Calls: dispositions; one call's record.", no_args_is_help=True)


def parse_time(text: str, zone: str) -> datetime:
    """An ISO-8601 date-time; one without an offset is in ``zone`` (the operation's)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise DispositionError(f"--callback-at {text!r} is not an ISO-8601 date-time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(zone))


@app.command("disposition")
def disposition(
    call_uuid: Annotated[str, typer.Argument(help="the call's uuid (its CallAttempt)")],
    code: Annotated[str, typer.Argument(help="sale, completed, callback, dnc, wrong_number")],
    callback_at: Annotated[
        str | None,
        typer.Option(
            help="with callback: when to call again, ISO-8601 (no offset: DIALER_TIMEZONE)"
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="free text kept with the disposition")] = "",
) -> None:
    """Set the disposition of a finished call and move its lead accordingly."""
    with user_errors(DispositionError):
        ctx = app_context()
        at = parse_time(callback_at, ctx.settings.timezone) if callback_at else None
        request = DispositionRequest(call_uuid, parse_code(code), at, note)
        change = set_disposition(SqlDispositionStore(ctx.sessions), request, ctx.clock.now())
        due = f", due {change.next_attempt_at.isoformat()}" if change.next_attempt_at else ""
        dnc = "; number added to the DNC list of every campaign" if change.add_dnc else ""
        console.print(f"call {call_uuid}: {request.code}; lead {change.status}{due}{dnc}")


@app.command("show")
def show(call_uuid: str) -> None:
    """Show one call: outcome, disposition, webhook delivery."""
    with user_errors(DispositionError):
        view = describe_call(app_context().sessions, call_uuid)
        if view is None:
            raise DispositionError(f"no call with uuid {call_uuid}")
        table = Table(show_header=False)
        for label, value in view.items():
            table.add_row(label, value)
        console.print(table)
