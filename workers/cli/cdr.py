"""``dialer cdr``: CDRs the switch could not post (its err-log-dir files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dialer.cdr.service import import_cdr_files
from dialer.cdr.wiring import cdr_deps
from dialer.routing.wiring import redis_trunk_state
from workers.cli.common import InputError, console, err_console, user_errors
from workers.context import app_context
from workers.tasks_post_call import enqueue_post_call

app = typer.Typer(help="Call detail records posted by the switch.", no_args_is_help=True)


@app.command("import")
def import_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="mod_xml_cdr err-log-dir files (a_<uuid>.cdr.xml) or directories"),
    ],
) -> None:
    """Store and settle CDRs mod_xml_cdr wrote to its err-log-dir when no post got through;
    a file imported twice changes nothing."""
    with user_errors():
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files += path.glob("*.cdr.xml")
            elif path.is_file():
                files.append(path)
            else:
                raise InputError(f"{path} is neither a file nor a directory")
        ctx = app_context()
        trunks = redis_trunk_state(ctx.redis, ctx.namespace).reservations
        deps = cdr_deps(ctx.sessions, ctx.clock, enqueue_post_call, trunks)
        result = import_cdr_files(deps, files)
        for line in result.refused:
            err_console.print(f"[red]refused:[/red] {line}", highlight=False, soft_wrap=True)
        console.print(f"{result.taken} CDR file(s) taken, {result.new} new")
        if result.refused:
            raise typer.Exit(1)
