"""The ``dialer`` command: one Typer app; each bounded context adds its sub-commands here."""

from __future__ import annotations

import typer

from workers.cli import (
    agents,
    calls,
    campaigns,
    cdr,
    db,
    demo,
    fsconf,
    health,
    keys,
    leads,
    nodes,
    recordings,
    report,
    run,
    sim,
    trunks,
)
from workers.cli.root import DialerGroup

__all__ = ["app"]

app = typer.Typer(
    name="dialer",
    cls=DialerGroup,
    help="Predictive outbound dialer and campaign service over FreeSWITCH.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(leads.app, name="leads")
app.add_typer(sim.app, name="sim")
app.add_typer(trunks.app, name="trunks")
app.add_typer(trunks.rates_app, name="rates")
app.command("route")(trunks.show_route)
app.add_typer(fsconf.app, name="fsconf")
app.add_typer(agents.app, name="agents")
app.add_typer(calls.app, name="calls")
app.add_typer(cdr.app, name="cdr")
app.add_typer(keys.app, name="keys")
app.add_typer(nodes.app, name="nodes")
app.add_typer(report.app, name="report")
app.add_typer(recordings.app, name="recordings")
app.command("health")(health.health)
run.register_process_commands(app)
