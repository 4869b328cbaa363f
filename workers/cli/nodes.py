"""``dialer nodes``: each FreeSWITCH node's capacity, load and drain (`dialer.nodes`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dialer.nodes.adapters import ConnectionStatusReader
from dialer.nodes.service import drain, set_switch_limits, undrain
from dialer.nodes.wiring import node_placer, redis_node_store
from dialer.runner.adapters import EslSwitch
from dialer.runner.wiring import esl_switch
from workers.cli.common import InputError, console, user_errors
from workers.context import AppContext, app_context

app = typer.Typer(
    help="FreeSWITCH nodes: capacity, load, drain (calls are placed by headroom).",
    no_args_is_help=True,
)
CONNECT_WAIT_S = 2.0
NodeName = Annotated[str, typer.Argument(help="the node's name in DIALER_FREESWITCH_NODES")]


def _checked(ctx: AppContext, node: str) -> str:
    names = [n.name for n in ctx.settings.freeswitch_nodes]
    if node not in names:
        raise InputError(f"no node named {node!r} (configured: {', '.join(names)})")
    return node


def _open(ctx: AppContext) -> EslSwitch:
    settings = ctx.settings
    return esl_switch(settings.freeswitch_nodes, CONNECT_WAIT_S, settings.esl_client)


def _bound(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command("list")
def _list() -> None:
    """Every node: connected, sessions in use / max, sps, draining, trunks bound to it
    (each connected node's ``status`` read now)."""
    with user_errors():
        ctx = app_context()
        switch = _open(ctx)
        try:
            placer = node_placer(
                ctx.settings.freeswitch_nodes, ctx.redis, switch.connections, ctx.clock,
                namespace=ctx.namespace,
            )  # fmt: skip
            rows = placer.rows(switch.nodes())
        finally:
            switch.close()
    table = Table("node", "connected", "sessions/max", "sps", "draining", "trunks")
    for r in rows:
        table.add_row(
            r.name,
            "yes" if r.connected else "no",
            f"{_bound(r.sessions)}/{_bound(r.limits.max_sessions)}",
            _bound(r.limits.sps),
            "yes" if r.draining else "no",
            "all" if r.trunks is None else ",".join(sorted(r.trunks)),
        )
    console.print(table)


@app.command("drain")
def _drain(node: NodeName) -> None:
    """No new call on NODE (every pacer and API process); its calls up finish."""
    with user_errors():
        ctx = app_context()
        drain(redis_node_store(ctx.redis, ctx.namespace), _checked(ctx, node))
    console.print(f"node {node} draining: no new calls; calls up go on to their end")


@app.command("undrain")
def _undrain(node: NodeName) -> None:
    """NODE takes new calls again."""
    with user_errors():
        ctx = app_context()
        undrain(redis_node_store(ctx.redis, ctx.namespace), _checked(ctx, node))
    console.print(f"node {node} takes new calls")


@app.command("limits")
def _limits(
    node: NodeName,
    sps: Annotated[int | None, typer.Option(help="fsctl sps N on the switch", min=1)] = None,
    max_sessions: Annotated[
        int | None, typer.Option(help="fsctl max_sessions N on the switch", min=0)
    ] = None,
) -> None:
    """Set NODE's own limits with ``fsctl`` (until the switch restarts: put them in its
    switch.conf.xml to keep them); the dialer reads them back with ``status``."""
    with user_errors():
        ctx = app_context()
        _checked(ctx, node)
        switch = _open(ctx)
        try:
            if node not in switch.nodes():
                raise InputError(f"node {node} is not connected")
            placer = node_placer(
                ctx.settings.freeswitch_nodes, ctx.redis, switch.connections, ctx.clock,
                namespace=ctx.namespace,
            )  # fmt: skip
            got = set_switch_limits(
                ConnectionStatusReader(switch.connections), node, sps=sps, max_sessions=max_sessions
            )
            placer.read(node, force=True)
        finally:
            switch.close()
    console.print(f"node {node}: sps {_bound(got[0])}, max_sessions {_bound(got[1])}")
