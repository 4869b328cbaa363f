"""What every CLI command shares: the console, turning domain errors into exit code 1, the
one time zone rule for times typed and printed, and the campaign report table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from campaigns.report import CampaignReport
from dialer.config import SettingsError

console = Console()
err_console = Console(stderr=True)


_WIDEST_LINE = 10_000


def print_whole(table: Table) -> None:
    """Print ``table`` at its natural width even when the terminal (or a pipe's 80 columns)
    is narrower, so that uuids and times stay whole for copying and grep: its long lines
    wrap in the terminal instead of squeezing its columns."""
    width = Measurement.get(console, console.options.update_width(_WIDEST_LINE), table).maximum
    if width <= console.width:
        console.print(table)
        return
    wide = Console(
        file=console.file,
        width=width,
        color_system=console.color_system,  # type: ignore[arg-type]
        force_terminal=console.is_terminal,
    )
    wide.print(table)


class InputError(Exception):
    """A value typed on the command line that cannot be used; the message names it."""


@contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Report ``kinds`` (and bad settings or input) as one red line and exit 1, without a
    traceback."""
    caught: tuple[type[Exception], ...] = (SettingsError, InputError, *kinds)
    try:
        yield
    except caught as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def parse_time(text: str, zone: str, option: str) -> datetime:
    """The ISO-8601 date-time typed for ``option``; one without an offset is in ``zone`` (the
    operation's, ``DIALER_TIMEZONE``), as every time the CLI prints is."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not an ISO-8601 date-time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(zone))


def format_time(at: datetime | None, zone: str) -> str:
    """An aware time as the CLI prints it: in ``zone`` (``DIALER_TIMEZONE``) to the second,
    with its offset (``2026-11-21 23:00:00+08:00``); ``-`` for None."""
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(zone)).isoformat(sep=" ", timespec="seconds")


def report_table(report: CampaignReport, title: str) -> Table:
    """A campaign report as the CLI prints it (``dialer campaigns show``, ``dialer demo``)."""
    table = Table(title, "count")
    for status, n in sorted(report.leads_by_status.items()):
        table.add_row(f"leads {status}", str(n))
    for outcome, n in sorted(report.attempts_by_outcome.items()):
        table.add_row(f"calls {outcome}", str(n))
    table.add_row("answered by a person", str(report.answered))
    table.add_row("abandoned", f"{report.abandoned} ({report.abandon_rate:.1%} of answered)")
    table.add_row("talk time", f"{report.talk_s / 60:.1f} min")
    return table
