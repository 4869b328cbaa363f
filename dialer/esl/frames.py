"""Event Socket framing: bytes from the switch -> `Frame` objects, fed in pieces of any size.

mod_event_socket writes each frame as ``Name: value`` header lines, a blank line, then
``Content-Length`` bytes of body when that header is present (``auth/request`` and
``command/reply`` have none; ``api/response``, ``text/event-*``, ``log/data`` and
``text/disconnect-notice`` have one). Header values of the outer frame are sent raw.

The header line rule is the inverse of FreeSWITCH's writers (``"%s: %s\n"`` in
mod_event_socket and ``switch_event_serialize``): the name is everything before the first
``": "``, the value everything after it, byte for byte. Nothing is trimmed and a CR is data:
FreeSWITCH ends every line with a bare LF and URL-encodes CR inside plain event values
(``%0D``; no recorded stream holds a CR byte). Splitting at ``": "`` rather than at the first
``":"`` (as libesl does) keeps names that contain a colon whole: transcript y carries
``variable_nolocal:execute_on_answer: ...``.

Pure: no I/O. Invariant: for any split of a byte stream into chunks, feeding the chunks in
order yields the same frames as feeding the whole stream at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_END = b"\n\n"
_MAX_HEADER_BYTES = 1 << 20
# far above any real frame (a `show channels as json` of thousands of calls is a few MB)
MAX_BODY_BYTES = 256 << 20
_DIGITS = re.compile(r"[0-9]+")
_MAX_LENGTH_DIGITS = 12


class FramingError(ValueError):
    """The stream is not Event Socket framing (the connection must be dropped)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: outer headers in wire order (raw values) and the raw body bytes."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    @property
    def content_type(self) -> str:
        return self.header("Content-Type")

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a ``command/reply``."""
        return self.header("Reply-Text")

    def body_text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _parse_headers(block: bytes) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in block.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        name, sep, value = line.partition(": ")
        if not sep:
            raise FramingError(f"header line without ': ': {line[:80]!r}")
        headers.append((name, value))
    return tuple(headers)


class FrameParser:
    """Incremental parser: ``feed(chunk)`` returns the frames completed by that chunk."""

    __slots__ = ("_buf", "_pending_headers", "_pending_length")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pending_headers: tuple[tuple[str, str], ...] | None = None
        self._pending_length = 0

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buf += chunk
        frames: list[Frame] = []
        pos = 0
        buf = self._buf
        while True:
            if self._pending_headers is None:
                # FreeSWITCH may send stray newlines between frames; they carry nothing.
                while pos < len(buf) and buf[pos] == 0x0A:
                    pos += 1
                end = buf.find(_HEADER_END, pos)
                if end < 0:
                    if len(buf) - pos > _MAX_HEADER_BYTES:
                        raise FramingError("header block larger than 1 MiB")
                    break
                headers = _parse_headers(bytes(buf[pos:end]))
                pos = end + 2
                length = _content_length(headers)
                if length == 0:
                    frames.append(Frame(headers, b""))
                    continue
                self._pending_headers = headers
                self._pending_length = length
            if len(buf) - pos < self._pending_length:
                break
            body = bytes(buf[pos : pos + self._pending_length])
            pos += self._pending_length
            frames.append(Frame(self._pending_headers, body))
            self._pending_headers = None
        if pos:
            del buf[:pos]
        return frames


def content_length(value: str) -> int:
    """A ``Content-Length`` value in bytes: ASCII digits only, at most `MAX_BODY_BYTES`.

    FreeSWITCH writes it with ``%ld``; Python's ``int`` would also take blanks, signs,
    underscores and non-ASCII digits (``'١٢'``), none of which a switch sends."""
    if len(value) > _MAX_LENGTH_DIGITS or _DIGITS.fullmatch(value) is None:
        raise FramingError(f"bad Content-Length {value[:40]!r}")
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise FramingError(f"Content-Length {length} above {MAX_BODY_BYTES}")
    return length


def _content_length(headers: tuple[tuple[str, str], ...]) -> int:
    for name, value in headers:
        if name == "Content-Length":
            return content_length(value)
    return 0


def parse_frames(data: bytes) -> list[Frame]:
    """The frames of a whole byte stream (a transcript, or what a connection read so far);
    an incomplete frame at the end is left out."""
    return FrameParser().feed(data)
