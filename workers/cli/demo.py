"""``dialer demo``: the most complete job, end to end, on the embedded default."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from campaigns import service
from campaigns.importer.service import ImportError_, ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.samples import write_sample_leads
from workers import demo as root
from workers.cli.common import console, report_table, user_errors
from workers.cli.leads import print_summary
from workers.context import app_context
from workers.demo_chart import write_chart


def demo(
    leads: int = typer.Option(5000, help="how many leads to generate"),
    seconds: float = typer.Option(120.0, help="how long to run, in wall-clock seconds"),
    speed: float = typer.Option(10.0, help="how much faster than real time the switch runs"),
    out: Annotated[Path, typer.Option(help="where the charts go")] = Path("demo-out"),
) -> None:
    """Create a campaign with 20 agents and 3 trunks, import generated leads, and run it
    against the switch simulator with a live display; then print the report and write charts."""
    with user_errors(service.CampaignError, ImportError_):
        ctx = app_context()
        campaign_id = root.prepare(ctx)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"demo-{leads}.csv"
            write_sample_leads(path, leads)
            options = ImportOptions(campaign=root.DEMO_CAMPAIGN, rejects_path=out / "rejects.csv")
            out.mkdir(parents=True, exist_ok=True)
            started = ctx.clock.now()
            summary = import_file(import_deps(ctx.sessions, ctx.clock), path, options)
            print_summary(summary, (ctx.clock.now() - started).total_seconds())
        with Live(_table(None), console=console, refresh_per_second=2) as live:
            run = root.run(ctx, campaign_id, seconds, speed, lambda s: live.update(_table(s)))
        # Off a terminal, Live leaves the line of its last frame open.
        console.line()
        console.print(report_table(run.report, "campaign report"))
        console.print(_talk_share(run.samples[-1]))
        console.print(f"chart: {write_chart(run, out)}")
        reason = root.pause_reason(ctx, campaign_id)
        if reason is not None:
            console.print(f"the dialer paused the campaign (abandon safety stop): {reason}")


def _talk_share(sample: root.Sample) -> str:
    return (
        f"talk share: {sample.talk_share:.0%} of the agents' logged-in time "
        f"({sample.report.talk_s / 60:.1f} of {sample.agent_s / 60:.1f} agent-minutes)"
    )


def _table(sample: root.Sample | None) -> Table:
    table = Table("figure", "value", title="demo campaign (switch simulator)")
    if sample is None:
        table.add_row("starting", "switch simulator, listener, pacer")
        return table
    report = sample.report
    for name, value in (
        ("switch time", f"{sample.t_s:.0f} s"),
        ("calls placed", f"{sample.dialled} ({sample.in_flight} not ended)"),
        ("ringing now", str(sample.ringing)),
        ("answered by a person", str(sample.answered)),
        ("connected to an agent", str(sample.connected)),
        ("abandoned", f"{sample.abandoned} ({report.abandon_rate:.1%} of answered)"),
        ("talk share", f"{sample.talk_share:.0%}"),
        (
            "agents busy / wrap-up / waiting",
            f"{sample.agents_busy} / {sample.agents_wrapping} / {sample.agents_ready}",
        ),
        ("dial level", f"{sample.dial_level:.2f}"),
        ("trunk lines in use", ", ".join(f"{k} {v}" for k, v in sorted(sample.per_trunk.items()))),
    ):
        table.add_row(name, value)
    table.caption = "calls: the dialer's records of the ended calls; now: switch and agents"
    return table
