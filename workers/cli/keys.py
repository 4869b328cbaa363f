"""``dialer keys``: the API keys that may call the HTTP API (``dialer api``).

A key's token is printed once, when it is created; only its hash is kept, so a lost token
is revoked and replaced, never recovered.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dialer.agents.wiring import sql_agent_store
from dialer.apikeys.ports import Role
from dialer.apikeys.service import (
    ApiKeyError,
    issue_key,
    list_keys,
    revoke_key,
    set_key_webhook,
)
from dialer.apikeys.wiring import sql_key_store
from workers.cli.common import console, format_time, print_whole, user_errors
from workers.context import app_context

app = typer.Typer(help="API keys: who may call the HTTP API, in which role.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[
        Role,
        typer.Option(
            help="manager: campaigns, leads, trunks, DNC; agent: itself only; "
            "system: places calls and reads their results"
        ),
    ],
    agent: Annotated[str, typer.Option(help="the agent an agent key acts as")] = "",
    label: Annotated[str, typer.Option(help="what the key is for, e.g. crm-prod")] = "",
) -> None:
    """Create a key and print its token (shown this once: keep it)."""
    with user_errors(ApiKeyError):
        ctx = app_context()
        agents = sql_agent_store(ctx.sessions)
        issued = issue_key(
            sql_key_store(ctx.sessions), ctx.clock, role, agent=agent, label=label,
            agent_exists=lambda name: agents.get(name) is not None,
        )  # fmt: skip
    console.print(f"key {issued.key.key_id} ({issued.key.role}); its token, shown once:")
    print(issued.token)


@app.command("list")
def list_cmd() -> None:
    """Every key: id, role, agent, label, created, revoked (tokens are never shown)."""
    ctx = app_context()
    zone = ctx.settings.timezone
    table = Table("id", "role", "agent", "label", "created", "revoked", "webhook")
    store = sql_key_store(ctx.sessions)
    for key in list_keys(store):
        revoked = format_time(key.revoked_at, zone) if key.revoked_at else ""
        hook = store.webhook(key.key_id)
        table.add_row(
            key.key_id, str(key.role), key.agent, key.label, format_time(key.created_at, zone),
            revoked, hook[0] if hook else "",
        )  # fmt: skip
    print_whole(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id (dialer keys list)")]) -> None:
    """Revoke a key: every request carrying it is refused from now on."""
    with user_errors(ApiKeyError):
        ctx = app_context()
        revoke_key(sql_key_store(ctx.sessions), ctx.clock, key_id)
    console.print(f"key {key_id} revoked")


@app.command("webhook")
def webhook(
    key_id: Annotated[str, typer.Argument(help="a system key's id (dialer keys list)")],
    url: Annotated[
        str | None, typer.Option(help="POST the events of the calls this key places here")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="the secret that signs each delivery (default: one is made)"),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="remove the key's webhook")] = False,
) -> None:
    """Set a system key's webhook: where the events of the calls it places go, signed
    (docs/api/webhooks.md). A secret made here is printed this once."""
    with user_errors(ApiKeyError):
        if remove == (url is not None):
            raise ApiKeyError("give --url URL (with --secret, or one is made) or --remove")
        if remove and secret is not None:
            raise ApiKeyError("--remove takes no --secret")
        ctx = app_context()
        made = set_key_webhook(sql_key_store(ctx.sessions), key_id, url, secret)
    if url is None:
        console.print(f"key {key_id}: webhook removed")
        return
    console.print(f"key {key_id}: webhook {url}")
    if made is not None:
        console.print("webhook secret (shown this once; receivers verify each delivery with it):")
        print(made)
