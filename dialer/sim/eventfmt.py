"""Event Socket wire format: URL encoding, event serialisation (plain/json), frames.

Copied from FreeSWITCH 1.10 (``switch_url_encode_opt`` without double encoding,
``switch_event_serialize``, ``switch_event_serialize_json``, mod_event_socket framing) and
checked against the transcripts in ``esl-transcripts/``.
Invariants: every function is pure; ``Content-Length`` always counts UTF-8 bytes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

__all__ = [
    "Headers",
    "api_response",
    "command_reply",
    "disconnect_notice",
    "event_frame",
    "frame",
    "serialize_json",
    "serialize_plain",
    "url_encode",
]

_URL_UNSAFE = frozenset('\r\n "#%&+:;<=>?@[\\]^`{|}')
_HEX = "0123456789ABCDEF"
_HEXSET = frozenset("0123456789ABCDEFabcdef")

Headers = Sequence[tuple[str, str]]


_SAFE = re.compile(r"[!$'()*,\-./0-9A-Z_a-z~]*")


@functools.lru_cache(maxsize=1 << 16)
def url_encode(value: str) -> str:
    """``switch_url_encode_opt(..., double_encode=SWITCH_FALSE)``: bytes outside
    ``' '..'~'`` and the unsafe set become ``%XX``; an existing ``%XX`` is left alone."""
    if _SAFE.fullmatch(value):
        return value
    raw = value.encode("utf-8")
    out: list[str] = []
    n = len(raw)
    for i, b in enumerate(raw):
        ch = chr(b)
        if (
            ch == "%"
            and i + 2 < n + 0
            and chr(raw[i + 1]) in _HEXSET
            and chr(raw[i + 2]) in _HEXSET
        ):
            out.append(ch)
            continue
        if b < 0x20 or b > 0x7E or ch in _URL_UNSAFE:
            out.append("%" + _HEX[b >> 4] + _HEX[b & 0x0F])
        else:
            out.append(ch)
    return "".join(out)


def serialize_plain(headers: Headers, body: str | None = None) -> str:
    """``switch_event_serialize``: ``Name: url-encoded value`` lines, a blank line, and the
    body preceded by its own ``Content-Length`` header when there is one."""
    lines = [f"{name}: {url_encode(value)}\n" for name, value in headers]
    if body:
        lines.append(f"Content-Length: {len(body.encode('utf-8'))}\n\n{body}")
    else:
        lines.append("\n")
    return "".join(lines)


def serialize_json(headers: Headers, body: str | None = None) -> str:
    """``switch_event_serialize_json``: one flat object of exact values, ``_body`` last."""
    obj: dict[str, str] = {}
    for name, value in headers:
        obj[name] = value
    if body:
        obj["Content-Length"] = str(len(body.encode("utf-8")))
        obj["_body"] = body
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def frame(headers: Headers, body: str = "") -> bytes:
    """One Event Socket frame: headers, blank line, then ``body`` (raw bytes count)."""
    payload = body.encode("utf-8")
    head = "".join(f"{name}: {value}\n" for name, value in headers)
    if payload:
        head += f"Content-Length: {len(payload)}\n"
    return (head + "\n").encode("utf-8") + payload


def command_reply(reply_text: str, extra: Headers = ()) -> bytes:
    """A ``command/reply`` frame (``Reply-Text`` first, then extra headers such as Job-UUID)."""
    return frame([("Content-Type", "command/reply"), ("Reply-Text", reply_text), *extra])


def api_response(text: str) -> bytes:
    """An ``api/response`` frame; FreeSWITCH replies ``-ERR no reply`` for an empty result."""
    if not text:
        text = "-ERR no reply\n"
    return frame([("Content-Type", "api/response")], text)


def event_frame(serialized: str, fmt: str) -> bytes:
    """Wrap a serialised event: ``Content-Length`` first, then ``Content-Type``."""
    payload = serialized.encode("utf-8")
    ctype = "text/event-json" if fmt == "json" else "text/event-plain"
    return f"Content-Length: {len(payload)}\nContent-Type: {ctype}\n\n".encode() + payload


def disconnect_notice() -> bytes:
    """The ``text/disconnect-notice`` frame sent after ``exit``."""
    body = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    return frame(
        [("Content-Type", "text/disconnect-notice")],
        body,
    )
