"""``dialer db``: schema migrations."""

from __future__ import annotations

import typer

from dialer.db import migrate
from workers.cli.common import console, user_errors
from workers.context import app_context

app = typer.Typer(help="Database schema: upgrade, check.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    revision: str = typer.Argument("head", help="Alembic revision to reach; head: the newest"),
) -> None:
    """Bring the database to REVISION (default: the newest)."""
    with user_errors():
        settings = app_context().settings
        migrate.upgrade(settings.database_url, revision)
    console.print(f"database at {revision}")


@app.command("check")
def check_cmd() -> None:
    """Fail if the models and the migrations disagree."""
    with user_errors():
        settings = app_context().settings
        migrate.upgrade(settings.database_url)
        migrate.check(settings.database_url)
    console.print("models and migrations agree")
