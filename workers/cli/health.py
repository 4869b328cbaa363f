"""``dialer health [listener|worker|beat|api]``: the liveness check of this machine's
processes, from the heartbeat files their loops write (``DIALER_HEALTH_DIR``)."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from dialer.clock import SYSTEM_CLOCK
from dialer.config import load_settings
from dialer.liveness.ports import PROCESS_KINDS
from dialer.liveness.service import health_report, pid_alive
from dialer.liveness.wiring import heartbeat_store
from workers.cli.common import console, err_console, user_errors

_ALL = "all"


def health(
    process: Annotated[
        str, typer.Argument(help=f"{', '.join(PROCESS_KINDS)}, or {_ALL} (default).")
    ] = _ALL,
) -> None:
    """Exit 0 if every loop of the process is alive; else exit 1, one line per stopped loop."""
    with user_errors():
        settings = load_settings()
    if process != _ALL and process not in PROCESS_KINDS:
        err_console.print(
            f"[red]error:[/red] unknown process {process!r}; use one of "
            f"{', '.join(PROCESS_KINDS)} or {_ALL}",
            highlight=False,
        )
        raise typer.Exit(1)
    kinds = (process,) if process != _ALL else PROCESS_KINDS[:3]
    store = heartbeat_store(settings.health_dir)
    now_s = SYSTEM_CLOCK.now().timestamp()
    failed = health_report(store, kinds, now_s, socket.gethostname(), pid_alive)
    for line in failed:
        console.print(line, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
    console.print(f"healthy: {', '.join(kinds)}", highlight=False)
