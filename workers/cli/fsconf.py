"""``dialer fsconf render``: the FreeSWITCH configuration of every node, from the database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer
from sqlalchemy import select

from campaigns.dnc import global_entries
from campaigns.models import Campaign
from dialer.routing.service import load_trunks
from fs_conf.dialplan import DEFAULT_SAFE_HARBOR, DialplanError, DialplanOptions
from fs_conf.dnc import switch_dnc
from fs_conf.switch import CdrPosting, QueueSettings, SwitchOptions, write_switch_conf
from fs_conf.targets import pgsql_dsn, redis_target
from fs_conf.xml_curl import XmlCurlBinding
from workers.cli.common import console, err_console, user_errors
from workers.context import app_context

app = typer.Typer(
    help="FreeSWITCH configuration rendered from campaigns and trunks.", no_args_is_help=True
)


@app.command("render")
def render_switch_conf(
    out: Annotated[Path, typer.Option(help="FreeSWITCH conf directory to write into")],
    node: Annotated[
        str | None, typer.Option(help="only this node (default: every configured node)")
    ] = None,
    amd: Annotated[bool, typer.Option(help="answering-machine detection (mod_amd)")] = False,
    safe_harbor: Annotated[
        str, typer.Option(help="message played to an abandoned caller")
    ] = DEFAULT_SAFE_HARBOR,
    max_wait_s: Annotated[
        int, typer.Option(help="seconds an answered caller waits for an agent")
    ] = 2,
    strategy: Annotated[str, typer.Option(help="mod_callcenter strategy")] = "longest-idle-agent",
    moh: Annotated[str, typer.Option(help="music on hold while queued")] = "local_stream://moh",
    lcr_dsn: Annotated[
        str,
        typer.Option(
            help="mod_lcr database, e.g. pgsql://hostaddr=10.0.0.3 dbname=lcr ... (default: "
            "the dialer's own when it is PostgreSQL; with SQLite mod_lcr is left out)"
        ),
    ] = "",
    callcenter_dsn: Annotated[
        str, typer.Option(help="mod_callcenter database (default: its own SQLite)")
    ] = "",
    esl_listen_ip: Annotated[
        str | None, typer.Option(help="Event Socket listen address (default: the node's host)")
    ] = None,
    esl_password: Annotated[
        str | None,
        typer.Option(
            help="Event Socket password (default: the node's in DIALER_FREESWITCH_NODES, "
            "which must then be the same); never ClueCon unless --allow-default-password"
        ),
    ] = None,
    esl_acl: Annotated[
        str | None,
        typer.Option(
            help="networks allowed to connect to the Event Socket, comma-separated CIDRs "
            "(default: loopback only; required for any other listen address)"
        ),
    ] = None,
    allow_default_password: Annotated[
        bool, typer.Option(help="accept FreeSWITCH's default Event Socket password ClueCon")
    ] = False,
    cdr_url: Annotated[
        str | None,
        typer.Option(
            help="where the switch posts CDRs (default: http://DIALER_API_HOST:PORT/fsapi/cdr)"
        ),
    ] = None,
    cdr_err_dir: Annotated[
        str, typer.Option(help="mod_xml_cdr err-log-dir (relative: under FreeSWITCH's log dir)")
    ] = "xml_cdr_err",
    xml_curl: Annotated[
        bool,
        typer.Option(
            help="mod_xml_curl fetches the campaign dialplan, queues, gateways and agents' "
            "users from the API first (the rendered files stay the fallback)"
        ),
    ] = True,
    xml_curl_url: Annotated[
        str | None,
        typer.Option(
            help="where the switch fetches (default: http://DIALER_API_HOST:PORT/fsapi/xml_curl;"
            " ?node=NAME is added)"
        ),
    ] = None,
) -> None:
    """Write event socket + ACL, modules (each with its configuration, or left out with the
    reason), SIP profile + gateways, queues, dialplan with the DNC guard, the DNC list and the
    CDR posting (xml_cdr) under OUT.

    With several nodes configured (DIALER_FREESWITCH_NODES), each gets OUT/<node name>.
    """
    with user_errors(DialplanError, ValueError):
        ctx = app_context()
        nodes = [n for n in ctx.settings.freeswitch_nodes if node is None or n.name == node]
        if not nodes:
            raise ValueError(f"no FreeSWITCH node named {node!r} in the settings")
        acl = tuple(c for c in (esl_acl or "").split(",") if c.strip())
        with ctx.sessions() as session:
            trunks = load_trunks(session)
            campaigns = [(c.name, c.queue_name) for c in session.scalars(select(Campaign))]
            dnc_numbers, dnc_prefixes = global_entries(session, ctx.clock.now())
        queue = QueueSettings(strategy=strategy, moh_sound=moh, max_wait_time_s=max_wait_s)
        settings = ctx.settings
        cdr = CdrPosting(
            url=cdr_url or f"http://{settings.api_host}:{settings.api_port}/fsapi/cdr",
            credentials=settings.fsapi_credentials,
            err_log_dir=cdr_err_dir,
        )
        options = SwitchOptions(
            esl_listen_ip=esl_listen_ip,
            esl_password=esl_password,
            esl_acl=acl,
            allow_default_password=allow_default_password,
            lcr_odbc_dsn=lcr_dsn or pgsql_dsn(settings.database_url) or "",
            callcenter_odbc_dsn=callcenter_dsn,
            queue=queue,
            dialplan=DialplanOptions(safe_harbor=safe_harbor, amd=amd),
            cdr=cdr,
            redis=redis_target(settings.redis_url),
            dnc=switch_dnc(dnc_numbers, dnc_prefixes, trunks),
        )
        several = len(ctx.settings.freeswitch_nodes) > 1
        fetch_url = xml_curl_url or f"http://{settings.api_host}:{settings.api_port}/fsapi/xml_curl"
        for n in nodes:
            target = out / n.name if several else out
            binding = XmlCurlBinding(
                f"{fetch_url}{'&' if '?' in fetch_url else '?'}node={quote(n.name)}",
                settings.fsapi_credentials,
            )
            node_options = replace(options, xml_curl=binding if xml_curl else None)
            written = write_switch_conf(
                target, trunks, campaigns, n, node_options, node_name=n.name
            )
            for path in written:
                console.print(str(path), highlight=False)
            if esl_password is not None and esl_password != n.password:
                err_console.print(
                    f"[yellow]note:[/yellow] node {n.name} has another password in "
                    "DIALER_FREESWITCH_NODES: give it the --esl-password one, or the dialer "
                    "cannot connect",
                    highlight=False,
                    soft_wrap=True,
                )
        if not cdr.credentials:
            err_console.print(
                "[yellow]warning:[/yellow] DIALER_FSAPI_CREDENTIALS is not set: the API "
                "refuses CDR posts, which then pile up in the err-log-dir, and xml_curl "
                "fetches, which fall back to the rendered files"
            )
