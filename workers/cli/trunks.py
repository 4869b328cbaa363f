"""``dialer trunks``, ``dialer rates`` and ``dialer route``: trunks, rate decks, routing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import redis
import typer
from rich.markup import escape
from rich.table import Table

from dialer.routing.explain import HealthView, describe_health, down_details, unroutable_reason
from dialer.routing.health import TrunkHealth
from dialer.routing.model import CallerIdMode, NumberFormat, NumberWindow, UnknownRegionPolicy
from dialer.routing.service import (
    RateDeckNotText,
    RateDeckRejected,
    TrunkExists,
    TrunkLive,
    TrunkNotFound,
    UnroutableNumber,
    add_trunk,
    explain_route,
    get_trunk,
    import_rate_file,
    live_trunks,
    load_trunks,
    rate_counts,
    trunk_names,
)
from dialer.routing.spec import TrunkFields, build_trunk
from dialer.routing.wiring import redis_trunk_state
from workers.cli.common import console, err_console, format_time, print_whole, user_errors
from workers.context import AppContext, app_context

app = typer.Typer(help="SIP trunks (gateways): add, list, show, render.", no_args_is_help=True)
rates_app = typer.Typer(help="Rate decks: import a CSV for a trunk.", no_args_is_help=True)


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace("、", ",").split(",") if p.strip())


@app.command("add")
def _add(
    name: Annotated[str, typer.Argument(help="the trunk's name (its gateway's name)")],
    proxy: Annotated[str, typer.Option(help="carrier HOST or HOST:PORT (UDP 5060 default)")],
    callee_prefix: Annotated[str, typer.Option(help="digits before the callee (被叫加前缀)")] = "",
    number_format: Annotated[
        NumberFormat, typer.Option(help="callee after the prefix: national or e164 digits")
    ] = NumberFormat.NATIONAL,
    caller_id: Annotated[
        str, typer.Option(help="caller IDs to send (主叫送), comma-separated")
    ] = "",
    caller_id_mode: Annotated[
        CallerIdMode, typer.Option(help="how a caller ID is picked from --caller-id")
    ] = CallerIdMode.SINGLE,
    caller_id_daily_cap: Annotated[int, typer.Option(help="calls per caller ID per day")] = 0,
    local_presence: Annotated[
        bool, typer.Option(help="prefer a caller ID from the callee's province")
    ] = False,
    max_concurrency: Annotated[
        int, typer.Option(help="simultaneous calls (并发), 0 = no limit")
    ] = 0,
    max_cps: Annotated[int, typer.Option(help="new calls per second, 0 = no limit")] = 0,
    blind_areas: Annotated[
        str, typer.Option(help="provinces (盲区), e.g. 北,新,西 or Beijing")
    ] = "",
    blind_prefixes: Annotated[str, typer.Option(help="E.164 digit prefixes it cannot reach")] = "",
    unknown_region: Annotated[
        UnknownRegionPolicy,
        typer.Option(help="with blind areas: dial numbers whose province is unknown or not"),
    ] = UnknownRegionPolicy.ALLOW,
    per_number_cap: Annotated[
        int, typer.Option(help="calls per number per window (一天一次 = 1)")
    ] = 0,
    per_number_window: Annotated[
        NumberWindow, typer.Option(help="calendar window of --per-number-cap")
    ] = NumberWindow.DAY,
    time_zone: Annotated[
        str, typer.Option(help="zone of --active-hours, the caps' days and weeks")
    ] = "Asia/Shanghai",
    active_hours: Annotated[str, typer.Option(help="e.g. 09:00-12:00,13:30-20:00")] = "",
    weight: Annotated[int, typer.Option(help="share among equal-cost trunks; 0 = never")] = 1,
    group: Annotated[list[str] | None, typer.Option(help="trunk group (repeatable)")] = None,
    register: Annotated[bool, typer.Option(help="register with the carrier")] = False,
    username: Annotated[str, typer.Option(help="SIP username, with --register")] = "",
    password: Annotated[str, typer.Option(help="SIP password, with --register")] = "",
    profile: Annotated[str, typer.Option(help="sofia profile")] = "external",
    ping_s: Annotated[int, typer.Option(help="OPTIONS ping interval, 0 = off")] = 0,
    disabled: Annotated[bool, typer.Option(help="add it without routing calls to it")] = False,
    fs_node: Annotated[list[str] | None, typer.Option(help="FreeSWITCH node (repeatable)")] = None,
) -> None:
    """Add a trunk as the carrier hands it over."""
    fields = TrunkFields(
        name=name, proxy=proxy, callee_prefix=callee_prefix, number_format=number_format,
        caller_ids=_split(caller_id), caller_id_mode=caller_id_mode,
        caller_id_daily_cap=caller_id_daily_cap, local_presence=local_presence,
        max_concurrency=max_concurrency, max_cps=max_cps, blind_areas=_split(blind_areas),
        blind_prefixes=_split(blind_prefixes), unknown_region=unknown_region,
        per_number_cap=per_number_cap, per_number_window=per_number_window,
        time_zone=time_zone, active_hours=_split(active_hours), weight=weight,
        groups=tuple(group or ()), register=register, username=username, password=password,
        sip_profile=profile, ping_interval_s=ping_s, enabled=not disabled,
        fs_nodes=tuple(fs_node or ()),
    )  # fmt: skip
    with user_errors(TrunkExists, ValueError):
        trunk = build_trunk(fields)
        with app_context().sessions.begin() as session:
            add_trunk(session, trunk)
    console.print(f"trunk {name} added")


@app.command("list")
def list_trunks() -> None:
    """List trunks with their limits, rate-deck sizes, live health and lines in use."""
    ctx = app_context()
    with ctx.sessions() as session:
        trunks = load_trunks(session, with_rates=False)
        counts = rate_counts(session)
    live = _live(ctx, [t.name for t in trunks])
    now_s = ctx.clock.now().timestamp()
    table = Table(
        "name", "proxy", "prefix", "caller ID", "conc", "cps", "blind", "lines", "health",
        "weight", "rates",
    )  # fmt: skip
    for t in sorted(trunks, key=lambda t: t.name):
        state = live.get(t.name)
        table.add_row(
            t.name + ("" if t.enabled else " (disabled)"),
            f"{t.proxy_host}:{t.proxy_port}",
            t.callee_prefix,
            ",".join(t.caller_id.numbers),
            str(t.max_concurrency or "-"),
            str(t.max_cps or "-"),
            "、".join(t.blind_areas.regions + t.blind_areas.prefixes),
            "?" if state is None else str(state.usage.in_flight),
            "?" if state is None else _health_state(state, now_s),
            str(t.weight),
            str(counts.get(t.name, 0)),
        )
    print_whole(table)


def _health_state(state: TrunkLive, now_s: float) -> str:
    return "up" if state.health is None else describe_health(state.health, now_s).state


def _live(ctx: AppContext, names: list[str]) -> dict[str, TrunkLive]:
    """The trunks' live figures; empty (shown as ?) with a warning when Redis cannot be read."""
    try:
        state = redis_trunk_state(ctx.redis, ctx.namespace)
        return live_trunks(names, state.reservations, state.health)
    except (redis.RedisError, OSError) as exc:
        err_console.print(
            f"[yellow]warning:[/yellow] lines and health unknown (Redis: {escape(str(exc))})",
            soft_wrap=True,
        )
        return {}


@app.command("show")
def show_trunk(name: Annotated[str, typer.Argument(help="the trunk's name")]) -> None:
    """Show one trunk and the gateway XML FreeSWITCH gets for it."""
    from fs_conf.render import gateway_xml

    with user_errors(TrunkNotFound), app_context().sessions() as session:
        trunk = get_trunk(session, name, with_rates=True)
    for label, value in (
        ("proxy", f"{trunk.proxy_host}:{trunk.proxy_port} ({trunk.sip_profile})"),
        ("dial string", trunk.dial_string("8613800138000", "13800138000")),
        ("caller ID", f"{', '.join(trunk.caller_id.numbers)} ({trunk.caller_id.mode})"),
        ("concurrency / cps", f"{trunk.max_concurrency} / {trunk.max_cps}"),
        ("blind areas", repr(trunk.blind_areas)),
        ("per-number cap", f"{trunk.per_number_cap} per {trunk.per_number_window}"),
        ("active hours", ", ".join(map(str, trunk.active_hours)) or "always"),
        ("weight / groups", f"{trunk.weight} / {', '.join(trunk.groups) or '-'}"),
        ("rates", str(len(trunk.rates))),
    ):
        console.print(f"[bold]{label}:[/bold] {value}", highlight=False)
    console.print(gateway_xml(trunk), markup=False, highlight=False)


@app.command("render")
def render_trunk_gateways(
    out_dir: Annotated[Path, typer.Argument(help="FreeSWITCH conf directory")],
    node: Annotated[
        str | None, typer.Option(help="only the trunks of this FreeSWITCH node")
    ] = None,
) -> None:
    """Write gateway XMLs, distributor.conf.xml and mod_lcr data under OUT_DIR."""
    from fs_conf.render import write_all

    with app_context().sessions() as session:
        trunks = load_trunks(session)
    for path in write_all(trunks, out_dir, node):
        console.print(str(path))


@rates_app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the rate deck, CSV")],
    trunk: Annotated[str, typer.Option(help="trunk whose rate deck this replaces")],
    no_header: Annotated[
        bool,
        typer.Option(
            "--no-header",
            help="the first row is data; columns prefix,rate_per_min[,billing_increment_s"
            "[,connection_fee]]",
        ),
    ] = False,
) -> None:
    """Replace a trunk's rate deck with a CSV, all or nothing: any bad row (each is listed)
    leaves the deck unchanged and exits 1."""
    try:
        with (
            user_errors(TrunkNotFound),
            file.open("rb") as raw,
            app_context().sessions.begin() as session,
        ):
            stored = import_rate_file(session, trunk, raw, header=not no_header)
    except RateDeckNotText as exc:
        err_console.print(
            f"[red]error:[/red] {escape(file.name)} is {exc}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    except RateDeckRejected as rejected:
        for problem in rejected.problems:
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        err_console.print(
            f"[red]error:[/red] {escape(file.name)}: {rejected}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    console.print(f"{stored} rates imported for {trunk}", highlight=False)


def show_route(
    number: Annotated[
        str,
        typer.Argument(
            help="the number as a lead file has it (+8613800138000, 13800138000, "
            "'+86 10 6512 3456'); without +country it is in the campaign's region, else "
            "DIALER_DEFAULT_REGION"
        ),
    ],
    campaign: Annotated[str | None, typer.Option(help="campaign whose trunk group applies")] = None,
    cost_band: Annotated[float, typer.Option(help="share traffic within this cost fraction")] = 0.0,
) -> None:
    """Rank the trunks for NUMBER now, with their live health, explaining every exclusion;
    exit 1 when no trunk can take it."""
    ctx = app_context()
    now = ctx.clock.now()
    with user_errors(LookupError, UnroutableNumber), ctx.sessions() as session:
        health = _live_health(ctx, trunk_names(session))
        decision = explain_route(
            session,
            number,
            now,
            campaign,
            Decimal(str(cost_band)),
            default_region=ctx.settings.default_region,
            health=health,
        )
    region = decision.region
    console.print(f"{decision.number}: {region.zh or '?'} / {region.en or '?'}", highlight=False)
    ranked = Table("#", "trunk", "dial string", "caller ID", "rate/min", "prefix")
    for i, c in enumerate(decision.candidates, start=1):
        ranked.add_row(
            str(i),
            c.trunk + (" (trial call)" if c.probe else ""),
            c.dial_string,
            c.caller_id or "-",
            str(c.rate.rate_per_min),
            c.rate.prefix,
        )
    if decision.candidates:
        print_whole(ranked)
    zone = ctx.settings.timezone
    down = down_details(decision, health, now.timestamp(), lambda s: _until_s(s, zone))
    excluded = Table("trunk", "excluded for", "detail")
    for x in decision.exclusions:
        excluded.add_row(x.trunk, str(x.reason), down.get(x.trunk, x.detail))
    if decision.exclusions:
        print_whole(excluded)
    _print_health(health, now.timestamp(), zone)
    if not decision.candidates:
        reason = unroutable_reason(decision, campaign, down)
        err_console.print(f"[red]error:[/red] cannot be routed: {escape(reason)}", soft_wrap=True)
        raise typer.Exit(1)


def _live_health(ctx: AppContext, trunks: list[str]) -> dict[str, TrunkHealth]:
    """The trunks' shared health as the pacers read it; empty (every trunk healthy) with a
    warning when Redis cannot be read."""
    try:
        store = redis_trunk_state(ctx.redis, ctx.namespace).health
        return dict(store.snapshot(trunks)) if store is not None and trunks else {}
    except (redis.RedisError, OSError) as exc:
        err_console.print(
            f"[yellow]warning:[/yellow] trunk health unknown, every trunk counted up "
            f"(Redis: {escape(str(exc))})",
            soft_wrap=True,
        )
        return {}


def _until_s(epoch_s: float, zone: str) -> str:
    return format_time(datetime.fromtimestamp(epoch_s, UTC), zone)


def _until(view: HealthView, zone: str) -> str:
    return "-" if view.until_s is None else _until_s(view.until_s, zone)


def _print_health(health: dict[str, TrunkHealth], now_s: float, zone: str) -> None:
    """The trunks whose health is not plain up: state, until when, why."""
    table = Table("trunk", "health", "until", "why")
    for name in sorted(health):
        view = describe_health(health[name], now_s)
        table.add_row(name, view.state, _until(view, zone), view.why)
    if health:
        print_whole(table)
