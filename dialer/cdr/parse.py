"""The bodies mod_xml_cdr posts, and the files it leaves in its err-log-dir -> `CdrFacts`.

Shapes (transcripts v, v3, v4 and the http/ captures):

* ``encode true`` (the default): ``Content-Type: application/x-www-form-urlencoded``, body
  ``cdr=`` + the percent-encoded XML;
* ``encode false``: ``application/x-www-form-plaintext``, body ``cdr=`` + the raw XML (not
  form-decodable);
* ``encode textxml``: ``text/xml``, the raw XML, no ``cdr=``;
* an err-log-dir file ``a_<uuid>.cdr.xml``: the XML exactly as it would have been posted,
  without ``cdr=`` (percent-encoded with ``encode true``).

Inside the XML, ``<variables>`` values are still URL-encoded (``agent6%40default``): they are
decoded once more. Pure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

__all__ = [
    "MAX_CDR_BYTES",
    "CdrError",
    "CdrFacts",
    "cdr_xml_of",
    "err_log_xml",
    "parse_cdr",
    "parse_cdr_post",
]

MAX_CDR_BYTES = 1_000_000  # the captured CDRs are 6-29 KB; a bound for a hostile body
_FORM_PREFIX = b"cdr="


class CdrError(ValueError):
    """A body or a file that is not a CDR; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class CdrFacts:
    """What one CDR says about one customer leg. Times in µs since the epoch (0: never);
    ids None when the channel carried no ``dialer_*`` variable (not a dialer call)."""

    call_uuid: str
    core_uuid: str
    campaign_id: int | None
    lead_id: int | None
    attempt_id: int | None
    trunk: str
    dialed_number: str
    hangup_cause: str
    hangup_cause_q850: int | None
    sip_status: str
    started_us: int
    progress_us: int
    answered_us: int
    bridged_us: int
    ended_us: int
    billsec: int
    agent: str
    agent_bridged: bool
    cancel_reason: str
    machine: bool
    recording_path: str
    # mod_callcenter's whole-second epochs (0: never): the member joined the queue, and left
    # it bridged (cc_queue_answered_epoch) or cancelled (cc_queue_canceled_epoch)
    queue_joined_s: int = 0
    queue_left_s: int = 0

    @property
    def queue_wait_s(self) -> int | None:
        """Seconds in the queue (None: never queued); a member still queued when the call
        ended (the caller hung up) waited until the end."""
        if not self.queue_joined_s:
            return None
        left = self.queue_left_s or self.ended_us // 1_000_000
        return max(left - self.queue_joined_s, 0)


def cdr_xml_of(content_type: str, body: bytes) -> str:
    """The XML text of a POST body in any of the three encodings (``content_type`` as sent,
    parameters allowed)."""
    if len(body) > MAX_CDR_BYTES:
        raise CdrError(f"CDR body of {len(body)} bytes is over the {MAX_CDR_BYTES}-byte limit")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/xml":
        return _text(body)
    if not body.startswith(_FORM_PREFIX):
        raise CdrError(f"a {kind or 'body without content type'} CDR post must start with cdr=")
    payload = body[len(_FORM_PREFIX) :]
    if kind == "application/x-www-form-urlencoded":
        return unquote_plus(_text(payload))
    if kind == "application/x-www-form-plaintext":
        return _text(payload)
    raise CdrError(f"unsupported CDR content type {content_type!r}")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CdrError(f"CDR is not UTF-8 (byte {exc.start})") from None


def parse_cdr_post(content_type: str, body: bytes) -> CdrFacts:
    """A posted body -> its facts."""
    return parse_cdr(cdr_xml_of(content_type, body))


def err_log_xml(text: str) -> str:
    """The XML of an err-log-dir file (percent-encoded with ``encode true``, raw otherwise)."""
    stripped = text.lstrip()
    return stripped if stripped.startswith("<") else unquote_plus(stripped)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_cdr(xml_text: str) -> CdrFacts:
    """The facts of one ``<cdr>`` document."""
    if "<!DOCTYPE" in xml_text or "<!ENTITY" in xml_text:
        raise CdrError("CDR with a DOCTYPE or an entity declaration refused")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise CdrError(f"CDR is not well-formed XML: {exc}") from None
    if root.tag != "cdr":
        raise CdrError(f"not a CDR: root element <{root.tag}>")
    variables = root.find("variables")
    if variables is None:
        raise CdrError("CDR without <variables>")
    v: dict[str, str] = {}
    for child in variables:
        # a repeated variable (transfer_history) keeps its first value
        v.setdefault(child.tag, unquote(child.text or ""))
    call_uuid = v.get("uuid", "")
    if not call_uuid:
        raise CdrError("CDR without a uuid variable")
    q850 = v.get("hangup_cause_q850", "")
    return CdrFacts(
        call_uuid=call_uuid,
        core_uuid=root.get("core-uuid", ""),
        campaign_id=_id(v.get("dialer_campaign_id", "")),
        lead_id=_id(v.get("dialer_lead_id", "")),
        attempt_id=_id(v.get("dialer_attempt_id", "")),
        trunk=v.get("sip_gateway_name") or v.get("dialer_trunk", ""),
        dialed_number=_dialed_number(root),
        hangup_cause=v.get("hangup_cause", ""),
        hangup_cause_q850=int(q850) if q850.isdigit() else None,
        sip_status=v.get("sip_term_status", ""),
        started_us=_int(v.get("start_uepoch", "")),
        progress_us=max(
            _int(v.get("progress_uepoch", "")), _int(v.get("progress_media_uepoch", ""))
        ),
        answered_us=_int(v.get("answer_uepoch", "")),
        bridged_us=_int(v.get("bridge_uepoch", "")),
        ended_us=_int(v.get("end_uepoch", "")),
        billsec=_int(v.get("billsec", "")),
        agent=v.get("cc_agent", ""),
        agent_bridged=v.get("cc_agent_bridged", "") == "true",
        cancel_reason=v.get("cc_cancel_reason", ""),
        machine=v.get("amd_result", "").upper() == "MACHINE",
        recording_path=v.get("dialer_recording_path", ""),
        queue_joined_s=_int(v.get("cc_queue_joined_epoch", "")),
        queue_left_s=_int(v.get("cc_queue_answered_epoch", ""))
        or _int(v.get("cc_queue_canceled_epoch", "")),
    )


def _dialed_number(root: ET.Element) -> str:
    """The number the originate dialled: the destination of the first caller profile
    (``profile_index="1"``), before the dialplan transferred the leg to its extension."""
    for flow in root.findall("callflow"):
        if flow.get("profile_index") == "1":
            return flow.findtext("caller_profile/destination_number", "") or ""
    return ""
