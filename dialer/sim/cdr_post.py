"""The simulator's mod_xml_cdr: each customer leg's CDR posted to a URL as FreeSWITCH does.

Shape (transcript v, http/v1_*): ``POST <url>?uuid=a_<uuid>``, ``User-Agent:
freeswitch-xml/1.0``, ``Content-Type: application/x-www-form-urlencoded``, body ``cdr=`` +
the percent-encoded XML; the XML's ``<variables>`` hold every channel variable, their values
URL-encoded once more; agent legs are not posted (``log-b-leg false``). Retries as
mod_xml_cdr's: only a 200 is delivered; ``retries`` more tries ``delay_s`` apart (seconds of
the simulator's clock), then the XML as it would have been posted (without ``cdr=``) goes to
``err_dir/a_<uuid>.cdr.xml`` when one is given.

`cdr_document` and `cdr_form_body` are pure; `CdrPoster` posts from one thread of its own,
so the switch's loop never waits for the receiver.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from dialer.sim.posting import PostingThread

__all__ = ["CdrPoster", "CdrPosting", "cdr_document", "cdr_form_body"]

log = logging.getLogger(__name__)
_SAFE = "/,.-_~"  # left as is by switch_url_encode, as in the captures


@dataclass(frozen=True, slots=True)
class CdrPosting:
    """``credentials``: ``user:pass`` for HTTP basic auth ("" none); ``speed``: the
    simulator's clock speed-up (delays are simulated seconds)."""

    url: str
    credentials: str = ""
    retries: int = 2
    delay_s: float = 1.0
    timeout_s: float = 10.0
    err_dir: Path | None = None
    speed: float = 1.0


def _times(profile: Mapping[str, str]) -> str:
    fields = (
        ("created_time", "Channel-Created-Time"),
        ("profile_created_time", "Profile-Created-Time"),
        ("progress_time", "Channel-Progress-Time"),
        ("progress_media_time", "Channel-Progress-Media-Time"),
        ("answered_time", "Channel-Answered-Time"),
        ("bridged_time", "Channel-Bridged-Time"),
        ("hangup_time", "Channel-Hangup-Time"),
    )
    return "".join(f"      <{n}>{int(profile.get(f, '0') or 0)}</{n}>\n" for n, f in fields)


def cdr_document(
    core_uuid: str,
    switchname: str,
    variables: Mapping[str, str],
    profile: Mapping[str, str],
    dialed_number: str,
) -> str:
    """The ``<cdr>`` XML of one leg: its variables (names as set, values URL-encoded) and
    the first caller profile (``profile_index="1"``: the number the originate dialled)."""
    lines = [
        '<?xml version="1.0"?>',
        f'<cdr core-uuid="{quote(core_uuid, _SAFE)}" switchname="{quote(switchname, _SAFE)}">',
        "  <channel_data>",
        "    <state>CS_REPORTING</state>",
        "    <direction>outbound</direction>",
        "    <state_number>11</state_number>",
        "  </channel_data>",
        "  <call-stats></call-stats>",
        "  <variables>",
    ]
    for name, value in variables.items():
        if name.replace("_", "").isalnum() and not name[0].isdigit():
            lines.append(f"    <{name}>{quote(str(value), _SAFE)}</{name}>")
    uuid = quote(variables.get("uuid", ""), _SAFE)
    lines += [
        "  </variables>",
        f'  <callflow unique-id="{uuid}" profile_index="1">',
        "    <caller_profile>",
        f"      <destination_number>{quote(dialed_number, _SAFE)}</destination_number>",
        f"      <uuid>{uuid}</uuid>",
        "    </caller_profile>",
        "    <times>",
        _times(profile).rstrip("\n"),
        "    </times>",
        "  </callflow>",
        "</cdr>",
        "",
    ]
    return "\n".join(lines)


def cdr_form_body(xml_text: str) -> bytes:
    """``cdr=`` + the percent-encoded XML (``encode true``)."""
    return b"cdr=" + quote(xml_text, safe="/").encode("ascii")


class CdrPoster:
    """Posts queued CDRs in order from its own thread; ``delivered``, ``written`` (to the
    err dir) and ``lost`` count the outcomes."""

    def __init__(self, posting: CdrPosting) -> None:
        self.posting = posting
        self.delivered = 0
        self.written = 0
        self.lost = 0
        auth = tuple(posting.credentials.split(":", 1)) if posting.credentials else None
        client = httpx.Client(
            timeout=posting.timeout_s,
            auth=auth,  # type: ignore[arg-type]
            headers={"User-Agent": "freeswitch-xml/1.0", "Accept": "*/*"},
        )
        self._posting: PostingThread[tuple[str, str]] = PostingThread(
            client, lambda item: self._deliver(*item), "sim-cdr-poster"
        )

    def post(self, call_uuid: str, xml_text: str) -> None:
        """Queue one leg's CDR (never blocks)."""
        self._posting.put((call_uuid, xml_text))

    def pending(self) -> int:
        return self._posting.pending()

    def close(self, wait_s: float = 10.0) -> None:
        """Post what is queued (within ``wait_s``), then stop."""
        self._posting.close(wait_s)

    def _deliver(self, call_uuid: str, xml_text: str) -> None:
        p = self.posting
        body = cdr_form_body(xml_text)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(p.retries + 1):
            if attempt:
                threading.Event().wait(p.delay_s / max(p.speed, 1e-9))
            try:
                reply = self._posting.client.post(
                    p.url, params={"uuid": f"a_{call_uuid}"}, content=body, headers=headers
                )
                if reply.status_code == 200:
                    self.delivered += 1
                    return
                log.error("Got error [%s] posting to web server [%s]", reply.status_code, p.url)
            except httpx.HTTPError as exc:
                log.error("Got error [0] posting to web server [%s]: %s", p.url, exc)
        if p.err_dir is None:
            self.lost += 1
            log.error("Unable to post CDR of %s; no err dir, dropped", call_uuid)
            return
        p.err_dir.mkdir(parents=True, exist_ok=True)
        (p.err_dir / f"a_{call_uuid}.cdr.xml").write_text(
            quote(xml_text, safe="/"), encoding="utf-8"
        )
        self.written += 1
