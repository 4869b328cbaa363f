"""``dialer agents``: add, list, login, logout, ready, break, on every configured node."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from dialer import agent_admin
from dialer.config import FsNode
from dialer.esl.ports import EslConnection, EslError, Subscription
from dialer.esl.wiring import build_esl_client
from workers.cli.common import console, user_errors
from workers.context import app_context

app = typer.Typer(help="Agents in mod_callcenter (callcenter_config).", no_args_is_help=True)

NodeOption = Annotated[
    str | None, typer.Option(help="only this FreeSWITCH node (default: every configured node)")
]
CONNECT_TIMEOUT_S = 5.0


def _nodes(only: str | None) -> list[FsNode]:
    settings = app_context().settings
    nodes = [n for n in settings.freeswitch_nodes if only is None or n.name == only]
    if not nodes:
        raise agent_admin.AgentError(f"no FreeSWITCH node named {only!r} in the settings")
    return nodes


@contextmanager
def _connected(node: FsNode) -> Iterator[EslConnection]:
    kind = app_context().settings.esl_client
    client = build_esl_client(kind, node, Subscription(events=()), lambda _e: None).start()
    try:
        if not client.wait_connected(CONNECT_TIMEOUT_S):
            raise EslError(f"{node.name}: no Event Socket at {node.host}:{node.port}")
        yield client
    finally:
        client.close()


def _each_node(only: str | None, action: Callable[[EslConnection], None]) -> None:
    with user_errors(agent_admin.AgentError, EslError):
        for node in _nodes(only):
            with _connected(node) as conn:
                action(conn)


@app.command("add")
def _add(
    name: Annotated[str, typer.Argument(help="agent name, e.g. 1001@default")],
    contact: Annotated[str, typer.Option(help="dial string of the phone, e.g. user/1001")],
    queue: Annotated[str | None, typer.Option(help="queue to add a tier in")] = None,
    level: Annotated[int, typer.Option(help="tier level")] = 1,
    position: Annotated[int, typer.Option(help="tier position")] = 1,
    node: NodeOption = None,
) -> None:
    """Add a callback agent (Logged Out) and, with --queue, its tier."""
    with user_errors(agent_admin.AgentError):
        tier = agent_admin.Tier(queue, level, position) if queue else None
        agent_admin.add_commands(name, contact, tier)  # refuse bad values before connecting
    _each_node(node, lambda conn: agent_admin.add(conn, name, contact, tier))
    console.print(f"agent {name} added", highlight=False)


@app.command("list")
def _list(node: NodeOption = None) -> None:
    """Agents with their status and state, per node."""
    table = Table("node", "agent", "status", "state")

    def fill(conn: EslConnection) -> None:
        for a in agent_admin.list_agents(conn):
            table.add_row(conn.node, a.name, a.status, a.state)

    _each_node(node, fill)
    console.print(table)


def _status_command(verb: str, doc: str) -> None:
    def command(
        name: Annotated[str, typer.Argument(help="agent name")], node: NodeOption = None
    ) -> None:
        with user_errors(agent_admin.AgentError):
            agent_admin.check_name(name)
        _each_node(node, lambda conn: agent_admin.set_status(conn, name, verb))
        console.print(f"agent {name}: {agent_admin.VERB_STATUS[verb]}", highlight=False)

    command.__doc__ = doc
    app.command(verb)(command)


_status_command("login", "Log in, not yet taking calls (On Break).")
_status_command("logout", "Log out (Logged Out).")
_status_command("ready", "Take calls (Available, Waiting).")
_status_command("break", "Pause taking calls (On Break).")
