"""``dialer demo``: the most complete job, end to end, on the embedded default."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from campaigns import service
from campaigns.importer.service import ImportOptions, import_file
from campaigns.samples import write_sample_leads
from campaigns.selection import claim_due_leads, open_zone_sets
from workers.cli.common import console, user_errors
from workers.cli.leads import print_summary
from workers.context import app_context

DEMO_CAMPAIGN = "demo"


def demo(
    leads: int = typer.Option(5000, help="how many leads to generate"),
    claim: int = typer.Option(20, help="how many due leads to claim at the end"),
) -> None:
    """Create a campaign, import generated leads, start it and claim its first due leads."""
    with user_errors(service.CampaignError):
        ctx = app_context()
        with ctx.sessions.begin() as session:
            try:
                service.get_campaign(session, DEMO_CAMPAIGN)
            except service.CampaignError:
                spec = service.parse_spec(name=DEMO_CAMPAIGN, queue_name="demo@default")
                service.create_campaign(session, spec)
                console.print(f"created campaign [bold]{DEMO_CAMPAIGN}[/bold]")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"demo-{leads}.csv"
            write_sample_leads(path, leads)
            options = ImportOptions(campaign=DEMO_CAMPAIGN, rejects_path=Path("demo.rejects.csv"))
            started = datetime.now(UTC)
            summary = import_file(ctx.sessions, path, options)
            print_summary(summary, (datetime.now(UTC) - started).total_seconds())
        with ctx.sessions.begin() as session:
            campaign = service.get_campaign(session, DEMO_CAMPAIGN)
            if campaign.status.value != "running":
                service.transition(session, DEMO_CAMPAIGN, "start")
            now = datetime.now(UTC)
            window = service.calling_window_of(campaign)
            zones = open_zone_sets(session, campaign.id, window, now)
            claimed = claim_due_leads(session, campaign.id, claim, now, zones, claimer="demo")
        table = Table("lead", "number", "region", "time zones", title="first leads claimed")
        for lead in claimed:
            table.add_row(str(lead.id), lead.phone_e164, lead.region, lead.time_zones)
        console.print(table)
        if not claimed:
            console.print("no lead is inside its calling window right now")
