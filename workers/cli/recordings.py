"""``dialer recordings``: the call recordings the switch uploaded."""

from __future__ import annotations

import typer

from dialer.recordings.service import purge_expired
from dialer.recordings.wiring import recording_deps
from workers.cli.common import console, user_errors
from workers.context import app_context

app = typer.Typer(help="Call recordings uploaded by the switch.", no_args_is_help=True)


@app.command("purge")
def purge_cmd() -> None:
    """Delete the recordings older than DIALER_RECORDINGS_RETENTION_DAYS."""
    with user_errors():
        ctx = app_context()
        deps = recording_deps(ctx.settings, ctx.clock)
        removed = purge_expired(deps)
    console.print(
        f"{removed} recording(s) older than {deps.retention_days} days deleted "
        f"from {ctx.settings.recordings_dir}"
    )
