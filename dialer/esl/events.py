"""Event bodies (``text/event-json`` and ``text/event-plain``) and command results.

We subscribe with ``event json``: JSON events carry every value exactly (transcript g2:
``a%2Cb`` arrives as ``a%2Cb``), while plain events URL-encode values but leave an existing
``%XX`` alone, so a literal ``a%2Cb`` and ``a,b`` look the same on the wire. The plain parser
is kept for reading the plain transcripts and for connections that were set to plain.

An event body (BACKGROUND_JOB result, ``log/data``...) is never a header: JSON carries it
as ``_body``; plain carries it after the header block, announced by an inner
``Content-Length`` header. Plain header lines follow the rule of `dialer.esl.frames`
(name before the first ``": "``, value after it); a name seen twice keeps its first place
and its last value (FreeSWITCH repeats a few with the same value, e.g. CODEC's
``Channel-Write-Codec-Name`` and CHANNEL_HANGUP_COMPLETE's ``Hangup-Cause``).

Not every event has an ``Event-Name``: an ``api_hangup_hook`` fires the API event of its
command on an event made from the channel's variables, which has none (transcript y; see
`Event.name`).

Pure: no I/O. Invariant: parsing never raises on well-formed FreeSWITCH output;
`EventParseError` for anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from dialer.esl.frames import Frame

CT_AUTH_REQUEST = "auth/request"
CT_COMMAND_REPLY = "command/reply"
CT_API_RESPONSE = "api/response"
CT_EVENT_PLAIN = "text/event-plain"
CT_EVENT_JSON = "text/event-json"
CT_DISCONNECT = "text/disconnect-notice"
CT_LOG = "log/data"
EVENT_TYPES = frozenset({CT_EVENT_PLAIN, CT_EVENT_JSON})
# ends a key whose value does not start with '"' (FreeSWITCH: arrays of strings)
_NON_STRING_VALUE = re.compile(rb'":[^"]')


class EventParseError(ValueError):
    """An event body that FreeSWITCH would not have produced."""


@dataclass(frozen=True, slots=True)
class Event:
    """One switch event: exact header values and the optional body (``None`` when absent)."""

    headers: dict[str, str]
    body: str | None = None

    @property
    def name(self) -> str:
        """``Event-Name``; empty for the API event of an ``api_hangup_hook``, which FreeSWITCH
        (``api_hook`` in switch_core_state_machine.c) fires on a copy of the channel's
        variables: no Event-Name, Core-UUID or Event-Date-* header, ``API-Command`` last."""
        return self.headers.get("Event-Name", "")

    @property
    def subclass(self) -> str:
        return self.headers.get("Event-Subclass", "")

    @property
    def uuid(self) -> str:
        return self.headers.get("Unique-ID", "")

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def var(self, name: str, default: str = "") -> str:
        """A channel variable as carried by channel events (``variable_<name>``)."""
        return self.headers.get("variable_" + name, default)

    @property
    def timestamp_us(self) -> int:
        """``Event-Date-Timestamp``: microseconds since the epoch, 0 if absent."""
        raw = self.headers.get("Event-Date-Timestamp", "")
        return int(raw) if raw.isdigit() else 0


def parse_event_json(payload: bytes) -> Event:
    """A ``text/event-json`` body: one flat object; ``_body`` is the event body."""
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventParseError(f"event JSON does not parse: {exc}") from None
    if not isinstance(obj, dict):
        raise EventParseError("event JSON is not an object")
    body = obj.pop("_body", None)
    if body is not None and not isinstance(body, str):
        raise EventParseError("event _body is not a string")
    # Inside a JSON string every '"' is escaped, so '"key":' followed by anything but '"' in
    # the raw text is a value that is not a string: fix those; if any such match is not a
    # key of the object (it was inside a string), check every value.
    suspects = [m.start() for m in _NON_STRING_VALUE.finditer(payload)]
    if not suspects:
        return Event(obj, body)
    fixed = 0
    for end in suspects:
        key = payload[payload.rfind(b'"', 0, end) + 1 : end].decode("utf-8", "replace")
        value = obj.get(key)
        if value is not None and type(value) is not str:
            obj[key] = _json_value(value)
            fixed += 1
    if fixed == len(suspects):
        return Event(obj, body)
    return Event({k: _json_value(v) for k, v in obj.items()}, body)


def _json_value(value: object) -> str:
    # Multi-valued headers are JSON arrays; plain events write them as ARRAY::a|:b.
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "ARRAY::" + "|:".join(value)
    raise EventParseError(f"unexpected event header value {value!r}")


def parse_event_plain(payload: bytes) -> Event:
    """A ``text/event-plain`` body: URL-encoded ``Name: value`` lines, blank line, body."""
    head, sep, rest = payload.partition(b"\n\n")
    names: list[str] = []
    values: list[str] = []
    for line in head.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        name, colon, value = line.partition(": ")
        if not colon:
            raise EventParseError(f"plain event line without ': ': {line[:80]!r}")
        names.append(name)
        values.append(value)
    headers = dict(zip(names, _unquote_all(values), strict=True))
    body: str | None = None
    length_text = headers.get("Content-Length")
    if length_text is not None:
        if not length_text.isdigit() or not sep:
            raise EventParseError(f"bad inner Content-Length {length_text!r}")
        raw_body = rest[: int(length_text)]
        if len(raw_body) != int(length_text):
            raise EventParseError("event body shorter than its Content-Length")
        body = raw_body.decode("utf-8", "replace")
    return Event(headers, body)


def _unquote_all(values: list[str]) -> list[str]:
    # Encoded values never hold a raw NUL (control bytes travel as %XX), and only "%00"
    # decodes to one, so without "%00" all values decode in one pass joined by NULs.
    joined = "\x00".join(values)
    if "%" not in joined:
        return values
    if "%00" in joined:
        return [unquote(v) for v in values]
    return unquote(joined).split("\x00")


def parse_event(frame: Frame) -> Event:
    """The event carried by an event frame (either format)."""
    if frame.content_type == CT_EVENT_JSON:
        return parse_event_json(frame.body)
    if frame.content_type == CT_EVENT_PLAIN:
        return parse_event_plain(frame.body)
    raise EventParseError(f"not an event frame: {frame.content_type!r}")


def parse_events(frames: Iterable[Frame]) -> list[Event]:
    """The events among ``frames``, in order; other frames (replies, logs...) are skipped."""
    return [parse_event(frame) for frame in frames if frame.content_type in EVENT_TYPES]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The text of an ``api`` reply or a BACKGROUND_JOB body.

    ``ok`` is False for ``-ERR ...`` and ``-USAGE...`` replies; ``detail`` is the text after
    ``+OK ``/``-ERR `` (for ``originate``: the uuid, or the hangup cause).
    """

    text: str
    ok: bool
    detail: str = field(default="")


def parse_result(text: str) -> CommandResult:
    """Classify a reply text such as ``+OK <uuid>\\n``, ``-ERR USER_BUSY\\n``, ``-USAGE: ...``."""
    clean = text.rstrip("\n")
    if clean.startswith("-ERR"):
        return CommandResult(clean, False, clean[4:].strip())
    if clean.startswith("-USAGE"):
        return CommandResult(clean, False, clean[1:].strip())
    if clean.startswith("+OK"):
        return CommandResult(clean, True, clean[3:].strip())
    return CommandResult(clean, True, clean)
