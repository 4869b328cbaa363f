"""What every CLI command shares: the console, turning domain errors into exit code 1, and
the campaign report table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from campaigns.report import CampaignReport
from dialer.config import SettingsError

console = Console()
err_console = Console(stderr=True)


@contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Report ``kinds`` (and bad settings) as one red line and exit 1, without a traceback."""
    caught: tuple[type[Exception], ...] = (SettingsError, *kinds)
    try:
        yield
    except caught as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


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
