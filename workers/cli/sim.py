"""``dialer sim``: run the FreeSWITCH stand-in (switch simulator) as a process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from workers.cli import sim_pacing
from workers.cli.common import console

app = typer.Typer(
    help="Switch simulator: a FreeSWITCH stand-in speaking the Event Socket protocol."
)


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, got {listen!r}")
    return host, int(port)


@app.command()
def serve(
    scenario: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Scenario file (YAML or JSON).")
    ],
    listen: Annotated[str, typer.Option(help="HOST:PORT of the Event Socket.")] = "127.0.0.1:8021",
    password: Annotated[str, typer.Option(help="Event Socket password.")] = "ClueCon",
    speed: Annotated[
        float | None, typer.Option(help="Clock speed-up k (overrides the scenario).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="RNG seed (overrides the scenario).")] = None,
    records: Annotated[
        Path | None,
        typer.Option(
            help="Ground-truth call records: .jsonl appended as calls start and end "
            "(survives kill -9); .csv/.json written on exit."
        ),
    ] = None,
    cdr_url: Annotated[
        str | None,
        typer.Option(help="Post each customer leg's CDR there, as mod_xml_cdr does."),
    ] = None,
    cdr_credentials: Annotated[
        str, typer.Option(help="USER:PASSWORD sent with the CDR posts (HTTP basic auth).")
    ] = "",
    cdr_err_dir: Annotated[
        Path | None, typer.Option(help="Where CDRs no post delivered are written.")
    ] = None,
    xml_curl_url: Annotated[
        str | None,
        typer.Option(
            help="Fetch the campaign dialplan and the queues there first, as mod_xml_curl "
            "does (the API's /fsapi/xml_curl?node=NAME)."
        ),
    ] = None,
    xml_curl_credentials: Annotated[
        str, typer.Option(help="USER:PASSWORD sent with the fetches (HTTP basic auth).")
    ] = "",
) -> None:
    """Serve the Event Socket (inbound mode) until interrupted."""
    from dialer.sim.cdr_post import CdrPosting
    from dialer.sim.simulator import serve_forever
    from dialer.sim.xml_curl_fetch import XmlCurlSource

    cdr = CdrPosting(cdr_url, cdr_credentials, err_dir=cdr_err_dir) if cdr_url else None
    for url in (cdr_url, xml_curl_url):
        if url is not None and not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"expected an http:// or https:// URL, got {url!r}")
    fetch = XmlCurlSource(xml_curl_url, xml_curl_credentials) if xml_curl_url else None

    host, port = _split_listen(listen)
    console.print(f"switch simulator listening on {host}:{port} (scenario {scenario})")
    try:
        asyncio.run(
            serve_forever(
                scenario,
                host=host,
                port=port,
                password=password,
                speed=speed,
                seed=seed,
                records_path=records,
                cdr=cdr,
                xml_curl=fetch,
            )
        )
    except KeyboardInterrupt:
        console.print("stopped")


app.command("pacing")(sim_pacing.pacing)
