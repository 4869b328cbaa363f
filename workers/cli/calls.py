"""``dialer calls``: the calls made, one call's record, its webhook deliveries, dispositions
of finished calls."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dialer.postcall.call_log import DEFAULT_CALLS_LISTED, KNOWN_OUTCOMES, CallLogError, CallRecord
from dialer.postcall.dispositions import DispositionError, DispositionRequest, parse_code
from dialer.postcall.service import call_deliveries, list_calls, set_disposition, show_call
from dialer.postcall.wiring import call_log, delivery_store, disposition_store
from dialer.recordings.service import recording_link
from dialer.recordings.wiring import public_url, recording_deps
from workers.cli.common import console, format_time, parse_time, print_whole, user_errors
from workers.context import app_context

app = typer.Typer(
    help="Calls: the calls made, one call's record, dispositions.", no_args_is_help=True
)


@app.command("list")
def list_cmd(
    campaign: Annotated[str | None, typer.Option(help="only this campaign's calls")] = None,
    outcome: Annotated[
        str | None, typer.Option(help=f"only calls that ended so: {', '.join(KNOWN_OUTCOMES)}")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="only calls placed at or after, ISO-8601 (no offset: DIALER_TIMEZONE)"),
    ] = None,
    limit: Annotated[
        int, typer.Option(help="at most this many calls, the newest")
    ] = DEFAULT_CALLS_LISTED,
) -> None:
    """List calls, newest first: uuid, campaign, number, outcome, trunk, hangup cause, times
    (in DIALER_TIMEZONE)."""
    with user_errors(CallLogError):
        ctx = app_context()
        zone = ctx.settings.timezone
        after = parse_time(since, zone, "--since") if since else None
        lines = list_calls(call_log(ctx.sessions), campaign, outcome, after, limit)
        table = Table(
            "call", "campaign", "number", "outcome", "trunk", "hangup cause", "started", "ended"
        )
        for line in lines:
            table.add_row(
                line.call_uuid, line.campaign, line.number, line.outcome or "in progress",
                line.trunk or "-", line.hangup_cause or "-",
                format_time(line.started_at, zone), format_time(line.ended_at, zone),
            )  # fmt: skip
        if not lines:
            table.caption = "no call matches"
        elif len(lines) == limit:
            table.caption = f"the {limit} newest matching calls (--limit for more)"
        print_whole(table)


@app.command("show")
def show(
    call_uuid: Annotated[str, typer.Argument(help="the call's uuid (dialer calls list)")],
) -> None:
    """Show one call: how it went and why it ended (trunk, hangup cause, Q.850 code, SIP
    status), its disposition, its recording (a URL that expires) and its webhook delivery."""
    with user_errors(CallLogError):
        ctx = app_context()
        record = show_call(call_log(ctx.sessions), call_uuid)
        recordings = recording_deps(ctx.settings, ctx.clock)
        link = recording_link(recordings, call_uuid, public_url(ctx.settings))
        table = Table(show_header=False)
        for label, value in _record_rows(record, ctx.settings.timezone):
            table.add_row(label, value)
        table.add_row("recording", link or "-")
        print_whole(table)


def _record_rows(record: CallRecord, zone: str) -> list[tuple[str, str]]:
    line = record.line
    rows = [
        ("call", line.call_uuid), ("campaign", line.campaign), ("lead", str(record.lead_id)),
        ("attempt", str(record.attempt_no)), ("number", line.number),
        ("outcome", line.outcome or "in progress"),
        ("abandoned", "yes" if record.abandoned else "no"),
        ("trunk", line.trunk or "-"), ("node", record.node or "-"),
        ("hangup cause", line.hangup_cause or "-"),
        ("Q.850 code", "-" if record.hangup_cause_q850 is None else str(record.hangup_cause_q850)),
        ("SIP status", record.sip_status or "-"),
        ("started", format_time(line.started_at, zone)),
        ("answered", format_time(record.answered_at, zone)),
        ("connected", format_time(record.connected_at, zone)),
        ("ended", format_time(line.ended_at, zone)), ("agent", record.agent or "-"),
        ("disposition", record.disposition or "-"),
        ("disposition at", format_time(record.disposition_at, zone)),
        ("callback at", format_time(record.callback_at, zone)),
        ("note", record.disposition_note or "-"),
    ]  # fmt: skip
    hook = record.webhook
    if hook is None:
        return [*rows, ("webhook", "-")]
    code = "no response" if hook.status_code is None else f"HTTP {hook.status_code}"
    return [
        *rows,
        ("webhook", f"{hook.state} after {hook.tries} tries, last {code}"),
        ("webhook url", hook.url),
        ("webhook last try", format_time(hook.last_try_at, zone)),
        ("webhook delivered", format_time(hook.delivered_at, zone)),
        ("webhook next try", format_time(hook.next_try_at, zone)),
        ("webhook error", hook.error or "-"),
    ]


@app.command("disposition")
def disposition(
    call_uuid: Annotated[str, typer.Argument(help="the call's uuid (dialer calls list)")],
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
        zone = ctx.settings.timezone
        at = parse_time(callback_at, zone, "--callback-at") if callback_at else None
        request = DispositionRequest(call_uuid, parse_code(code), at, note)
        change = set_disposition(disposition_store(ctx.sessions), request, ctx.clock.now())
        due = f", due {format_time(change.next_attempt_at, zone)}" if change.next_attempt_at else ""
        dnc = "; number added to the DNC list of every campaign" if change.add_dnc else ""
        console.print(f"call {call_uuid}: {request.code}; lead {change.status}{due}{dnc}")


@app.command("deliveries")
def deliveries(
    call_uuid: Annotated[str, typer.Argument(help="the call's uuid (dialer calls list)")],
) -> None:
    """Every webhook delivery of a call, each try with its time, URL, status, error and the
    next try planned (times in DIALER_TIMEZONE); as GET /v1/calls/{uuid}/deliveries."""
    with user_errors(CallLogError):
        ctx = app_context()
        zone = ctx.settings.timezone
        found = call_deliveries(delivery_store(ctx.sessions), call_uuid)
    if not found.deliveries:
        console.print(f"call {call_uuid}: no webhook deliveries")
        return
    for delivery in found.deliveries:
        table = Table("tried", "url", "status", "error", "next try")
        table.title = f"{delivery.event} ({delivery.delivery}): {delivery.state}"
        for t in delivery.tries:
            status = str(t.status_code) if t.status_code is not None else "no answer"
            table.add_row(
                format_time(t.tried_at, zone), t.url, status, t.error or "-",
                format_time(t.next_try_at, zone),
            )  # fmt: skip
        print_whole(table)
