"""What mod_xml_curl fetches from the dialer's API, and where it fetches it.

- `xml_curl_conf_xml`: ``autoload_configs/xml_curl.conf.xml``, one binding ``dialer`` for the
  ``dialplan``, ``directory`` and ``configuration`` sections (params as ``mod_xml_curl.c``'s
  ``do_config`` reads them: ``gateway-url`` with its ``bindings`` attribute,
  ``gateway-credentials``, ``auth-scheme``, ``timeout`` in seconds).
- The documents the API answers with, laid out as in transcripts w1 (dialplan), w2
  (directory) and w3 (not found): ``<document type="freeswitch/xml"><section name=...>``,
  built from the same templates as the rendered files. mod_xml_curl parses an answer with
  ``switch_xml_parse_file`` (``switch_xml.c``), whose preprocessor expands ``$${...}`` as it
  does for the files, but an ``X-PRE-PROCESS include`` would read the switch's own files:
  the external profile is served with its gateways inline.

FreeSWITCH falls back to its static files when the answer is ``not found`` (w2, w3) or the
API cannot be reached. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fs_conf.render import render_template

XML_CURL_SECTIONS = ("dialplan", "directory", "configuration")
# transcript w2/w3's answer, byte for byte
NOT_FOUND_XML = (
    '<document type="freeswitch/xml"><section name="result">'
    '<result status="not found"/></section></document>'
)
# the domain-level dial-string of transcript w2 (the stock directory's)
DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
)


@dataclass(frozen=True, slots=True)
class XmlCurlBinding:
    """Where mod_xml_curl asks (``url``: the API's ``/fsapi/xml_curl``, with ``?node=NAME``),
    with basic auth ``credentials`` (``user:pass``), ``timeout_s`` per fetch (a dialplan
    fetch holds up the call's setup)."""

    url: str
    credentials: str = ""
    timeout_s: int = 5
    sections: tuple[str, ...] = XML_CURL_SECTIONS

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"xml_curl url must be http:// or https://, not {self.url!r}")
        for value in (self.url, self.credentials):
            if "${" in value or any(c in value for c in "\r\n"):
                raise ValueError("xml_curl url and credentials hold no variable or line break")
        if self.timeout_s < 1:
            raise ValueError("xml_curl timeout must be >= 1 s")


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A SIP user the directory serves: ``id`` in ``domain``, named ``caller_id_name``."""

    id: str
    domain: str
    caller_id_name: str
    context: str = "default"


def xml_curl_conf_xml(binding: XmlCurlBinding) -> str:
    return render_template("xml_curl.conf.xml.j2", curl=binding)


def document(section: str, body: str, description: str = "served by the dialer") -> str:
    """``<document type="freeswitch/xml"><section name=SECTION>BODY</section></document>``;
    ``body`` is rendered XML (already escaped)."""
    return render_template(
        "xml_curl_document.xml.j2", section=section, body=body, description=description
    )


def dialplan_context_body(campaign_dialplan_xml: str) -> str:
    """The ``<context>`` of a rendered ``dialplan/campaign.xml`` (its ``<include>`` unwrapped)."""
    text = campaign_dialplan_xml.strip()
    if not (text.startswith("<include>") and text.endswith("</include>")):
        raise ValueError("not a rendered campaign dialplan")
    return text.removeprefix("<include>").removesuffix("</include>").strip("\n")


def directory_body(domain: str, users: Iterable[DirectoryUser]) -> str:
    return render_template(
        "directory_domain.xml.j2", domain=domain, users=list(users), dial_string=DIAL_STRING
    )


def sofia_profile_body(profile_xml: str) -> str:
    """``sofia.conf`` holding one profile (a rendered ``<profile>``)."""
    return render_template("sofia_profile.conf.xml.j2", profile=profile_xml.strip("\n"))
