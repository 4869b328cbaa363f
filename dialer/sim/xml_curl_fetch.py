"""The simulator's mod_xml_curl: its campaign dialplan and queues fetched from the dialer's
API, as FreeSWITCH fetches them (``POST`` of ``application/x-www-form-urlencoded`` fields:
``hostname``, ``section``, ``tag_name``, ``key_name``, ``key_value`` first, as
``mod_xml_curl.c`` builds them, then the request's headers; transcripts w1, w3), with HTTP
basic auth.

The simulator fetches once, when it starts (FreeSWITCH fetches at every hunt and queue
load): the campaign context's extensions replace the scenario's of that context, the queues
of ``callcenter.conf`` replace the scenario's queues; a ``not found`` answer (or none) leaves
the scenario's own. Both answers are read by `dialer.sim.rendered_conf`, as the rendered
files are. `form_fields` is pure.
"""

from __future__ import annotations

import base64
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import httpx

from dialer.sim.rendered_conf import scenario_extensions, scenario_queues
from dialer.sim.scenario import Scenario, scenario_from_dict
from fs_conf.dialplan import CAMPAIGN_CONTEXT

__all__ = ["Post", "XmlCurlSource", "fetch_config", "form_fields", "httpx_post"]

log = logging.getLogger(__name__)
# (url, body, headers) -> (status, text)
Post = Callable[[str, bytes, Mapping[str, str]], tuple[int, str]]


@dataclass(frozen=True, slots=True)
class XmlCurlSource:
    """``url``: the API's ``/fsapi/xml_curl`` (with ``?node=NAME``); ``credentials``
    ``user:pass`` ("" none)."""

    url: str
    credentials: str = ""
    timeout_s: float = 5.0


def form_fields(
    hostname: str,
    section: str,
    key: tuple[str, str, str] = ("", "", ""),
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The fields of one fetch: ``key`` is (tag_name, key_name, key_value)."""
    tag_name, key_name, key_value = key
    return {
        "hostname": hostname, "section": section, "tag_name": tag_name,
        "key_name": key_name, "key_value": key_value, "Event-Name": "REQUEST_PARAMS",
        **(headers or {}),
    }  # fmt: skip


def httpx_post(timeout_s: float) -> Post:
    def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        reply = httpx.post(url, content=body, headers=dict(headers), timeout=timeout_s)
        return reply.status_code, reply.text

    return post


def _fetch(source: XmlCurlSource, post: Post, fields: Mapping[str, str]) -> ET.Element | None:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "freeswitch-xml/1.0",
    }
    if source.credentials:
        token = base64.b64encode(source.credentials.encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        status, text = post(source.url, urlencode(fields).encode(), headers)
    except httpx.HTTPError as exc:
        log.warning("xml_curl fetch of %s failed: %s", fields["section"], exc)
        return None
    if status != 200:
        log.warning("xml_curl fetch of %s: HTTP %d", fields["section"], status)
        return None
    section = ET.fromstring(text).find("section")
    if section is None or section.get("name") == "result":
        return None
    return section


def fetch_config(scenario: Scenario, source: XmlCurlSource, post: Post | None = None) -> Scenario:
    """``scenario`` with the campaign dialplan and the queues the API serves."""
    post = post or httpx_post(source.timeout_s)
    host = scenario.hostname
    context = CAMPAIGN_CONTEXT
    hunt = {"Caller-Context": context, "Hunt-Context": context}
    dialplan = _fetch(source, post, form_fields(host, "dialplan", headers=hunt))
    if dialplan is not None:
        entries: list[dict[str, Any]] = scenario_extensions(ET.tostring(dialplan, "unicode"))
        fetched = scenario_from_dict({"dialplan": entries}).extensions
        kept = tuple(e for e in scenario.extensions if e.context != context)
        scenario = replace(scenario, extensions=kept + fetched)
    queues = _fetch(source, post, form_fields(
        host, "configuration", ("configuration", "name", "callcenter.conf")))  # fmt: skip
    if queues is not None:
        callcenter = dict(scenario.callcenter)
        callcenter["queues"] = scenario_queues(ET.tostring(queues, "unicode"))
        scenario = replace(scenario, callcenter=callcenter)
    return scenario
