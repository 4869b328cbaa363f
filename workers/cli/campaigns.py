"""``dialer campaigns``: create, update, list, show, check, start, pause, stop."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from campaigns import service
from campaigns.describe import (
    describe_calling_hours,
    describe_calling_window,
    describe_retry_policy,
)
from campaigns.domain import CampaignStatus, DialMode, RetryOrder
from campaigns.models import Campaign
from campaigns.report import live_report
from campaigns.service import CampaignError
from dialer.runner.preflight import Verdict
from dialer.runner.start import start_campaign
from dialer.runner.wiring import esl_switch_probe
from workers.cli.common import console, err_console, format_time, report_table, user_errors
from workers.cli.preflight import campaign_preflight, print_findings
from workers.context import app_context

app = typer.Typer(
    help="Campaigns: create, update, list, show, check, start, pause, stop.",
    no_args_is_help=True,
)

RunLimitOption = typer.Option(
    help="pause the campaign after this many answered calls in a row abandoned", min=1
)
WebhookUrlOption = typer.Option(
    help="POST each ended call here as JSON, signed (docs/api/webhooks.md)"
)
WebhookSecretOption = typer.Option(
    help="the secret that signs each delivery (default: one is made and printed)"
)
RetryOrderOption = typer.Option(
    help="where due retries stand among fresh leads of the same priority: retries_first, "
    "fresh_first, or due_order (longest due first)"
)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="the campaign's name, unique")],
    queue: Annotated[str, typer.Option(help="mod_callcenter queue answered calls enter")],
    mode: Annotated[DialMode, typer.Option(help="dial mode")] = DialMode.PREDICTIVE,
    region: Annotated[
        str | None,
        typer.Option(
            help="region of its numbers without +country (default: DIALER_DEFAULT_REGION)"
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            help='calling windows as JSON, e.g. {"windows":[{"days":"mon,sat",'
            '"start":"09:00","end":"20:00"}]}'
        ),
    ] = None,
    retry: Annotated[str | None, typer.Option(help="retry rules as JSON")] = None,
    retry_order: Annotated[RetryOrder, RetryOrderOption] = RetryOrder.RETRIES_FIRST,
    abandon_target_pct: Annotated[
        float, typer.Option(help="abandoned calls allowed, % of calls answered by a person")
    ] = 3.0,
    abandon_window_days: Annotated[
        int, typer.Option(help="days over which the abandon rate is measured")
    ] = 30,
    abandon_run_limit: Annotated[int, RunLimitOption] = 5,
    max_attempts: Annotated[int, typer.Option(help="calls per lead at most")] = 3,
    trunk_group: Annotated[
        str | None, typer.Option(help="dial through this trunk group only (default: any trunk)")
    ] = None,
    webhook_url: Annotated[str | None, WebhookUrlOption] = None,
    webhook_secret: Annotated[str | None, WebhookSecretOption] = None,
    record: Annotated[
        bool, typer.Option("--record", help="record answered calls (docs/recordings.md)")
    ] = False,
) -> None:
    """Create a campaign in draft status. With a webhook URL and no secret, a secret is made
    and printed (this once)."""
    with user_errors(CampaignError, ValueError):
        fields: dict[str, object] = {
            "name": name,
            "queue_name": queue,
            "dial_mode": mode,
            "default_region": region or app_context().settings.default_region,
            "abandon_target_pct": abandon_target_pct,
            "abandon_window_days": abandon_window_days,
            "abandon_run_limit": abandon_run_limit,
            "max_attempts": max_attempts,
            "retry_order": retry_order,
            "trunk_group": trunk_group,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "record": record,
        }
        if window:
            fields["calling_window"] = _json_option("--window", window)
        if retry:
            fields["retry_rules"] = _json_option("--retry", retry)
        spec = service.parse_spec(**fields)
        ctx = app_context()
        with ctx.sessions.begin() as session:
            campaign = service.create_campaign(session, spec)
            console.print(f"created campaign [bold]{campaign.name}[/bold] (#{campaign.id}, draft)")
            if campaign.webhook_secret and not webhook_secret:
                _print_new_secret(campaign.webhook_secret)


@app.command("update")
def update(
    name: Annotated[str, typer.Argument(help="the campaign's name")],
    retry_order: Annotated[RetryOrder | None, RetryOrderOption] = None,
    abandon_run_limit: Annotated[int | None, RunLimitOption] = None,
    webhook_url: Annotated[str | None, WebhookUrlOption] = None,
    webhook_secret: Annotated[str | None, WebhookSecretOption] = None,
    new_webhook_secret: Annotated[
        bool, typer.Option("--new-webhook-secret", help="make a new webhook secret, print it")
    ] = False,
    no_webhook: Annotated[
        bool, typer.Option("--no-webhook", help="remove the webhook (and its secret)")
    ] = False,
    record: Annotated[
        bool | None,
        typer.Option("--record/--no-record", help="record answered calls, or stop recording"),
    ] = None,
) -> None:
    """Change a campaign's settings; those not given stay as they are. A secret the dialer
    makes (a new webhook URL without --webhook-secret, or --new-webhook-secret) is printed
    this once."""
    given = {
        "retry_order": retry_order, "abandon_run_limit": abandon_run_limit,
        "webhook_url": webhook_url, "webhook_secret": webhook_secret, "record": record,
    }  # fmt: skip
    changes: dict[str, object] = {f: v for f, v in given.items() if v is not None}
    with user_errors(CampaignError):
        if no_webhook and (webhook_url or webhook_secret or new_webhook_secret):
            raise CampaignError("--no-webhook removes the webhook: give no other webhook option")
        if new_webhook_secret and webhook_secret:
            raise CampaignError("give --webhook-secret or --new-webhook-secret, not both")
        if no_webhook:
            changes["webhook_url"] = None
        if new_webhook_secret:
            changes["webhook_secret"] = None  # made anew below, by the service
        if not changes:
            raise CampaignError("nothing to change: give a setting, e.g. --retry-order")
        ctx = app_context()
        with ctx.sessions.begin() as session:
            before = service.get_campaign(session, name).webhook_secret
            campaign = service.update_campaign(session, name, changes)
            shown = {f: v for f, v in changes.items() if f != "webhook_secret"}
            settings = ", ".join(f"{f.replace('_', ' ')} {v}" for f, v in shown.items())
            console.print(f"campaign [bold]{campaign.name}[/bold]: {settings or 'updated'}")
            made = campaign.webhook_secret not in (before, webhook_secret)
            if campaign.webhook_secret and made:
                _print_new_secret(campaign.webhook_secret)


def _print_new_secret(secret: str) -> None:
    console.print("webhook secret (shown this once; receivers verify each delivery with it):")
    print(secret)


def _json_option(flag: str, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CampaignError(f"{flag} is not valid JSON: {exc}") from None


@app.command("list")
def list_cmd() -> None:
    """List campaigns with their lead counts."""
    with user_errors(CampaignError):
        ctx = app_context()
        table = Table(
            "name", "status", "mode", "queue", "calling hours", "leads", "pending", "done"
        )
        with ctx.sessions() as session:
            for c in service.list_campaigns(session):
                counts = service.lead_counts(session, c.id)
                table.add_row(
                    c.name, c.status.value, c.dial_mode.value, c.queue_name,
                    describe_calling_hours(service.calling_window_of(c)),
                    str(counts.total), str(counts.by_status["pending"]),
                    str(counts.by_status["done"]),
                )  # fmt: skip
        console.print(table)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="the campaign's name")]) -> None:
    """Show one campaign's settings, rules, lead counts and calls (one read of the counts)."""
    with user_errors(CampaignError):
        ctx = app_context()
        with ctx.sessions() as session:
            c = service.get_campaign(session, name)
            live = live_report(session, c, ctx.clock.now())
        leads = live.leads
        table = Table(show_header=False)
        for key, value in (
            ("name", c.name), ("status", _status_text(c, ctx.settings.timezone)),
            ("dial mode", c.dial_mode.value),
            ("queue", c.queue_name), ("default region", c.default_region),
            ("abandon target", f"{c.abandon_target_pct}% over {c.abandon_window_days} days; "
                f"pause after {c.abandon_run_limit} abandoned in a row"),
            ("max attempts", str(c.max_attempts)), ("trunk group", c.trunk_group or "-"),
            ("webhook", f"{c.webhook_url} (signed)" if c.webhook_url else "-"),
            ("recording", "on" if c.record else "off"),
            ("calling window", describe_calling_window(service.calling_window_of(c))),
            ("retry rules", "\n".join(
                describe_retry_policy(service.retry_policy_of(c), c.max_attempts))),
            ("retry order", c.retry_order.value),
            ("leads", ", ".join(f"{k} {v}" for k, v in leads.items())),
        ):  # fmt: skip
            table.add_row(key, value)
        console.print(table)
        console.print(report_table(live.report, f"calls of the last {live.window_days} days"))


def _status_text(campaign: Campaign, zone: str) -> str:
    """The status, and why the dialer paused the campaign itself when it did."""
    if campaign.pause_reason is None or campaign.status is not CampaignStatus.PAUSED:
        return campaign.status.value
    since = format_time(campaign.paused_at, zone)
    return f"{campaign.status.value} by the dialer at {since}: {campaign.pause_reason}"


def _transition(name: str, action: str) -> None:
    with user_errors(CampaignError):
        ctx = app_context()
        with ctx.sessions.begin() as session:
            campaign = service.transition(session, name, action)
            console.print(f"campaign [bold]{campaign.name}[/bold] is {campaign.status.value}")


@app.command("check")
def check(name: Annotated[str, typer.Argument(help="the campaign's name")]) -> None:
    """Check that the campaign's calls can reach agents: on every FreeSWITCH node its queue,
    dialplan extension, trunks and agents; its calling window and due leads. Exit 1 on any
    failure."""
    with user_errors(CampaignError):
        result = campaign_preflight(name)
    print_findings(result.findings)
    if not result.ok:
        raise typer.Exit(1)


@app.command("start")
def start(
    name: Annotated[str, typer.Argument(help="the campaign's name")],
    force: Annotated[
        bool, typer.Option("--force", help="start even when a preflight check fails")
    ] = False,
) -> None:
    """Start (or resume) a campaign, after the checks of ``campaigns check`` pass."""
    with user_errors(CampaignError):
        ctx = app_context()
        settings = ctx.settings
        probe = esl_switch_probe(settings.freeswitch_nodes, settings.esl_client)
        started = start_campaign(ctx.sessions, name, probe, ctx.clock, settings.timezone, force)
    result = started.preflight
    print_findings(tuple(f for f in result.findings if f.verdict is not Verdict.PASS), err_console)
    if not started.started:
        n = len(result.failures)
        err_console.print(f"[red]error:[/red] campaign {name} not started: {n} check"
                          f"{'s' if n > 1 else ''} failed (fix them, or --force)",
                          highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    console.print(f"campaign [bold]{name}[/bold] is {started.status}")


@app.command("pause")
def pause(name: Annotated[str, typer.Argument(help="the campaign's name")]) -> None:
    """Pause a running campaign: no new calls; calls up now finish."""
    _transition(name, "pause")


@app.command("stop")
def stop(name: Annotated[str, typer.Argument(help="the campaign's name")]) -> None:
    """Stop a campaign."""
    _transition(name, "stop")
