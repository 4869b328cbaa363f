"""What every CLI command shares: the console and turning domain errors into exit code 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

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
