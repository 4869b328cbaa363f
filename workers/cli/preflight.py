"""The preflight of a campaign as ``dialer campaigns check`` and ``start`` print it."""

from __future__ import annotations

from rich.console import Console

from dialer.runner.preflight import Finding, Preflight, Verdict
from dialer.runner.start import check_campaign
from dialer.runner.wiring import esl_switch_probe
from workers.cli.common import console
from workers.context import app_context

_MARK = {Verdict.PASS: "[green]pass[/green]", Verdict.WARN: "[yellow]warn[/yellow]",
         Verdict.FAIL: "[red]FAIL[/red]"}  # fmt: skip


def campaign_preflight(name: str) -> Preflight:
    """Every check of campaign ``name``: its rows now, then every configured node."""
    ctx = app_context()
    settings = ctx.settings
    probe = esl_switch_probe(settings.freeswitch_nodes, settings.esl_client)
    return check_campaign(ctx.sessions, name, probe, ctx.clock, settings.timezone)


def print_findings(findings: tuple[Finding, ...], out: Console = console) -> None:
    """One line per finding on ``out``: its verdict, its check, what it says (and what to
    do)."""
    for f in findings:
        out.print(f"{_MARK[f.verdict]} {f.check}: {f.message}", highlight=False, soft_wrap=True)
