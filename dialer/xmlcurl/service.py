"""What the dialer answers to a mod_xml_curl fetch: the part of the configuration it owns,
from the database, through the same templates as ``dialer fsconf render``.

A fetch is the form mod_xml_curl posts (transcripts w1-w3): ``section``, ``tag_name``,
``key_name``, ``key_value`` and the event's headers. Answers:

- ``dialplan`` of context ``campaign`` (``Hunt-Context``, else ``Caller-Context``): the
  campaign context (each campaign's extension, the DNC guard, after-queue, AMD);
- ``configuration`` ``callcenter.conf``: the campaigns' queues (mod_callcenter's load and
  ``queue load|reload``);
- ``configuration`` ``sofia.conf`` with ``profile=external``: the external profile, the
  node's trunks as its gateways (``sofia profile external rescan``);
- ``directory`` for user U of domain D, unless ``action=sip_auth``: U when an agent's contact
  is ``user/U`` or ``user/U@D``;
- anything else: ``not found``, and FreeSWITCH uses its own files.

Registration (``action=sip_auth``, ``sofia_reg.c``) is never answered: the dialer keeps no SIP
passwords, and an entry without one must not stand in for the static directory's. Data that
the render would refuse (a campaign or queue name outside its patterns) is answered
``not found`` too, so the switch falls back to its last rendered files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from dialer.clock import Clock
from dialer.xmlcurl.ports import SwitchData
from fs_conf.dialplan import CAMPAIGN_CONTEXT, DialplanError, dialplan_xml
from fs_conf.dnc import switch_dnc
from fs_conf.switch import SwitchOptions, callcenter_xml, external_profile_xml, queues_for
from fs_conf.xml_curl import (
    NOT_FOUND_XML,
    DirectoryUser,
    dialplan_context_body,
    directory_body,
    document,
    sofia_profile_body,
)

log = logging.getLogger(__name__)
EXTERNAL_PROFILE = "external"
# a callback contact dialling a directory user: optional [leg vars], user/ID[@DOMAIN]
_USER_CONTACT = re.compile(r"(?:\[[^\]]*\])?user/(?P<id>[^@/\s]+)(?:@(?P<domain>[^/\s]+))?")
_NAME = re.compile(r"[A-Za-z0-9_.+-]{1,100}")


@dataclass(frozen=True, slots=True)
class XmlCurlDeps:
    """``options``: what ``fsconf render`` would be given (queue settings, dialplan
    options, the external profile's parameters)."""

    data: SwitchData
    clock: Clock
    options: SwitchOptions = field(default_factory=SwitchOptions)


def answer(deps: XmlCurlDeps, fields: Mapping[str, str], node: str | None = None) -> str:
    """The XML document for one fetch (`NOT_FOUND_XML` for what the dialer does not own).
    ``node``: the FreeSWITCH node asking (its trunks only), None for every trunk."""
    section = fields.get("section", "")
    try:
        if section == "dialplan":
            return _dialplan(deps, fields)
        if section == "configuration":
            return _configuration(deps, fields, node)
        if section == "directory":
            return _directory(deps, fields)
    except (DialplanError, ValueError) as exc:
        log.warning("xml_curl %s answered not found: %s", section, exc)
    return NOT_FOUND_XML


def _dialplan(deps: XmlCurlDeps, fields: Mapping[str, str]) -> str:
    context = fields.get("Hunt-Context") or fields.get("Caller-Context", "")
    if context != CAMPAIGN_CONTEXT:
        return NOT_FOUND_XML
    data = deps.data
    regex = switch_dnc([], data.dnc_prefixes(deps.clock.now()), data.trunks()).prefix_regex
    options = replace(deps.options.dialplan, dnc_prefix_regex=regex)
    text = dialplan_xml(data.campaigns(), options)
    return document("dialplan", dialplan_context_body(text), "dialer campaign dialplan")


def _configuration(deps: XmlCurlDeps, fields: Mapping[str, str], node: str | None) -> str:
    name = fields.get("key_value", "")
    options = deps.options
    if name == "callcenter.conf":
        queues = queues_for((q for _, q in deps.data.campaigns()), options.queue)
        return document("configuration", callcenter_xml(queues, options.callcenter_odbc_dsn))
    if name == "sofia.conf" and fields.get("profile") == EXTERNAL_PROFILE:
        trunks = [
            t for t in deps.data.trunks() if node is None or not t.fs_nodes or node in t.fs_nodes
        ]
        profile = external_profile_xml(options, EXTERNAL_PROFILE, inline_gateways=trunks)
        return document("configuration", sofia_profile_body(profile))
    return NOT_FOUND_XML


def _directory(deps: XmlCurlDeps, fields: Mapping[str, str]) -> str:
    user, domain = fields.get("user", ""), fields.get("domain", "")
    if fields.get("action") == "sip_auth" or not (
        _NAME.fullmatch(user) and _NAME.fullmatch(domain)
    ):
        return NOT_FOUND_XML
    for agent, contact in deps.data.agent_contacts():
        match = _USER_CONTACT.fullmatch(contact)
        if match and match["id"] == user and match["domain"] in (None, domain):
            body = directory_body(domain, [DirectoryUser(user, domain, agent)])
            return document("directory", body)
    return NOT_FOUND_XML
