"""``dialer agents``: the agents in the database, made to match on every configured node.

Every command connects to each node once (`dialer.agents.wiring.every_node`): a node that is
not there is one line and exit 1, at once, never a retry loop.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated

import typer
from rich.table import Table

from dialer import agent_admin
from dialer.agent_state import AgentState
from dialer.agents import service
from dialer.agents.ports import AgentRecord, AgentStore, Tier
from dialer.agents.wiring import connect_node, every_node, select_nodes, sql_agent_store
from dialer.apicalls.adapters import SqlApiCallStore
from dialer.config import FsNode
from dialer.esl.ports import EslConnection, EslError
from workers.cli.common import console, err_console, print_whole, user_errors
from workers.context import app_context

app = typer.Typer(
    help="Agents: kept in the database, made to match in mod_callcenter on every node.",
    no_args_is_help=True,
)
tier_app = typer.Typer(help="An agent's tiers (its queues) on every node.", no_args_is_help=True)
app.add_typer(tier_app, name="tier")

NodeOption = Annotated[
    str | None, typer.Option(help="only this FreeSWITCH node (default: every configured node)")
]
NameArgument = Annotated[str, typer.Argument(help="agent name, e.g. 1001@default")]
QueueOption = Annotated[str, typer.Option(help="the queue, e.g. sales@default")]
LevelOption = Annotated[int, typer.Option(help="tier level (lower is offered calls first)")]
PositionOption = Annotated[int, typer.Option(help="tier position within its level")]
_ERRORS = (agent_admin.AgentError, EslError)


def _nodes(only: str | None) -> list[FsNode]:
    return select_nodes(app_context().settings.freeswitch_nodes, only)


def _connect(node: FsNode) -> EslConnection:
    return connect_node(app_context().settings.esl_client, node)


def _every_node(only: str | None = None) -> AbstractContextManager[list[EslConnection]]:
    """A connection to each node (``only``: that one); the first that fails is the error."""
    return every_node(app_context().settings.esl_client, _nodes(only))


def _store() -> AgentStore:
    return sql_agent_store(app_context().sessions)


@app.command("add")
def _add(
    name: NameArgument,
    contact: Annotated[str, typer.Option(help="dial string of the phone, e.g. user/1001")],
    queue: Annotated[str | None, typer.Option(help="queue to add a tier in")] = None,
    level: LevelOption = 1,
    position: PositionOption = 1,
) -> None:
    """Add an agent (Logged Out) and, with --queue, its tier: on every node, then in the
    database; all or nothing."""
    tiers = (Tier(queue, level, position),) if queue else ()
    record = AgentRecord(name, contact, tiers)
    with user_errors(*_ERRORS):
        service.check_record(record)  # refuse bad values before connecting
        with _every_node() as conns:
            service.add_agent(_store(), conns, record)
    console.print(f"agent {name} added", highlight=False)


@app.command("remove")
def _remove(name: NameArgument) -> None:
    """Delete an agent and its tiers on every node, then from the database."""
    with user_errors(*_ERRORS):
        agent_admin.check_name(name)
        with _every_node() as conns:
            service.remove_agent(_store(), conns, name)
    console.print(f"agent {name} removed", highlight=False)


@tier_app.command("add")
def _tier_add(
    name: NameArgument, queue: QueueOption, level: LevelOption = 1, position: PositionOption = 1
) -> None:
    """Put the agent in a queue on every node, then in the database; all or nothing."""
    tier = Tier(queue, level, position)
    with user_errors(*_ERRORS):
        agent_admin.tier_add_command(name, tier)
        with _every_node() as conns:
            service.add_tier(_store(), conns, name, tier)
    console.print(f"agent {name}: tier in {queue} added", highlight=False)


@tier_app.command("remove")
def _tier_remove(name: NameArgument, queue: QueueOption) -> None:
    """Take the agent out of a queue on every node, then in the database."""
    with user_errors(*_ERRORS):
        agent_admin.tier_del_command(name, queue)
        with _every_node() as conns:
            service.remove_tier(_store(), conns, name, queue)
    console.print(f"agent {name}: tier in {queue} removed", highlight=False)


@app.command("sync")
def _sync(node: NodeOption = None) -> None:
    """Make each node hold the database's agents and tiers (the listener does it after each
    (re)connect); statuses are left as they are."""
    failed = False
    with user_errors(*_ERRORS):
        nodes, store = _nodes(node), _store()
    for fs_node in nodes:
        try:
            conn = _connect(fs_node)
            try:
                result = service.sync_node(store, conn)
            finally:
                conn.close()
        except _ERRORS as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            failed = True
            continue
        console.print(f"{result.node}: {len(result.applied)} changes", highlight=False)
        for line in result.failed:
            err_console.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
        failed = failed or bool(result.failed)
    if failed:
        raise typer.Exit(1)


def _listing(fs_node: FsNode) -> list[AgentState] | None:
    try:
        conn = _connect(fs_node)
        try:
            return service.node_agents(conn)
        finally:
            conn.close()
    except _ERRORS as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return None


@app.command("list")
def _list(node: NodeOption = None) -> None:
    """Each agent's contact and queues (from the database) with its status and state on each
    node (a node that cannot be reached: one line, and ? for it)."""
    with user_errors(*_ERRORS):
        nodes, records = _nodes(node), _store().all()
    per_node = {n.name: _listing(n) for n in nodes}
    table = Table("node", "agent", "contact", "queues (level/position)", "status", "state")
    for line in service.agent_lines(records, per_node):
        table.add_row(line.node, line.name, line.contact, line.queues, line.status, line.state)
    print_whole(table)


def _status_command(verb: str, doc: str) -> None:
    def command(name: NameArgument, node: NodeOption = None) -> None:
        with user_errors(*_ERRORS):
            agent_admin.check_name(name)
            on_call = SqlApiCallStore(app_context().sessions).agents_in_calls
            with _every_node(node) as conns:
                status = service.set_status(conns, name, verb, on_api_call=lambda a: a in on_call())
        console.print(f"agent {name}: {status}", highlight=False)

    command.__doc__ = doc
    app.command(verb)(command)


_status_command("login", "Log in, not yet taking calls (On Break).")
_status_command("logout", "Log out (Logged Out).")
_status_command("ready", "Take calls (Available, Waiting).")
_status_command("break", "Pause taking calls (On Break).")
