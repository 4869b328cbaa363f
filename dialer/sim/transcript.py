"""Parse raw Event Socket byte streams (the ``*.esl.txt`` transcripts, or what a client read).

A stream is a sequence of frames: header lines, a blank line, then ``Content-Length`` bytes
of body when that header is present. Events (``text/event-plain`` / ``text/event-json``)
are decoded into ordered (name, value) pairs with plain values URL-decoded.
Pure functions; no I/O besides `read_frames`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote


def transcripts_dir() -> Path:
    """The captured transcripts: ``$DIALER_ESL_TRANSCRIPTS`` or ``../shared/esl-transcripts``
    next to the repository."""
    env = os.environ.get("DIALER_ESL_TRANSCRIPTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "esl-transcripts"


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Frame:
    """One frame: outer headers in order, and its raw body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def get(self, name: str) -> str | None:
        """First outer header ``name``."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def content_type(self) -> str:
        """``Content-Type`` of the frame."""
        return self.get("Content-Type") or ""


@dataclass(frozen=True)
class Event:
    """A decoded event: headers in wire order (values decoded) and body."""

    headers: tuple[tuple[str, str], ...]
    body: str

    def get(self, name: str) -> str | None:
        """First header ``name``."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def name(self) -> str:
        """``Event-Name``."""
        return self.get("Event-Name") or ""

    def header_names(self) -> list[str]:
        """Header names in order."""
        return [k for k, _ in self.headers]


def parse_frames(data: bytes) -> list[Frame]:
    """Split a byte stream into frames (an incomplete trailing frame is ignored)."""
    frames: list[Frame] = []
    i, n = 0, len(data)
    while i < n:
        j = data.find(b"\n\n", i)
        if j < 0:
            break
        lines = data[i:j].decode("utf-8", "replace").split("\n")
        headers = tuple((k, v) for k, _, v in (ln.partition(": ") for ln in lines if ln))
        i = j + 2
        length = next((int(v) for k, v in headers if k == "Content-Length"), 0)
        if i + length > n:
            break
        frames.append(Frame(headers, data[i : i + length]))
        i += length
    return frames


def read_frames(path: Path | str) -> list[Frame]:
    """Frames of a transcript file."""
    return parse_frames(Path(path).read_bytes())


def parse_event(frame: Frame) -> Event | None:
    """Decode an event frame (plain or json); None for other frames."""
    ctype = frame.content_type
    text = frame.body.decode("utf-8", "replace")
    if ctype == "text/event-json":
        obj = json.loads(text)
        body = str(obj.pop("_body", ""))
        return Event(tuple((str(k), str(v)) for k, v in obj.items()), body)
    if ctype != "text/event-plain":
        return None
    head, _, rest = text.partition("\n\n")
    headers: list[tuple[str, str]] = []
    for line in head.split("\n"):
        if line:
            key, _, value = line.partition(": ")
            headers.append((key, unquote(value)))
    return Event(tuple(headers), rest)
