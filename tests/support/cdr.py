"""The captured CDRs (tests/data/esl/http) as the dialer's calls: the lab that recorded them
set no ``dialer_*`` variable, so a test adds them as the originate sets them (transcript t:
every ``{var=value}`` of the originate is a channel variable, hence in the CDR)."""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

from tests.support.transcripts import http_request

_VARIABLES = "<variables>\n"


def with_dialer_ids(xml_text: str, campaign_id: int, lead_id: int, attempt_id: int) -> str:
    """The CDR with ``dialer_campaign_id``, ``dialer_lead_id``, ``dialer_attempt_id`` set."""
    assert _VARIABLES in xml_text
    ids = (
        f"    <dialer_campaign_id>{campaign_id}</dialer_campaign_id>\n"
        f"    <dialer_lead_id>{lead_id}</dialer_lead_id>\n"
        f"    <dialer_attempt_id>{attempt_id}</dialer_attempt_id>\n"
    )
    return xml_text.replace(_VARIABLES, _VARIABLES + ids, 1)


def captured_post(name: str, ids: tuple[int, int, int] | None = None) -> tuple[str, bytes]:
    """(Content-Type, body) of a captured CDR post, with dialer ids when given, in the
    capture's own encoding."""
    _, headers, body = http_request(name)
    content_type = headers["content-type"]
    if ids is None:
        return content_type, body
    if content_type == "application/x-www-form-urlencoded":
        xml_text = unquote_plus(body[len(b"cdr=") :].decode())
        return content_type, b"cdr=" + quote(with_dialer_ids(xml_text, *ids), "/").encode()
    if content_type == "text/xml":
        return content_type, with_dialer_ids(body.decode(), *ids).encode()
    return content_type, b"cdr=" + with_dialer_ids(body[4:].decode(), *ids).encode()
