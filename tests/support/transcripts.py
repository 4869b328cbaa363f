"""Where the test suite finds the recorded FreeSWITCH traffic: ``tests/data/esl/``.

The files are the byte streams of real Event Socket connections (FreeSWITCH 1.10.12 +
mod_callcenter) and the HTTP requests it made; ``tests/data/esl/README.md`` says what each
one holds. Tests read them only through `ESL_TRANSCRIPTS_DIR` and the functions below.
"""

from __future__ import annotations

from pathlib import Path

from dialer.esl.events import Event, parse_events
from dialer.esl.frames import Frame, FrameParser

ESL_TRANSCRIPTS_DIR = Path(__file__).resolve().parents[1] / "data" / "esl"


def transcript_bytes(name: str) -> bytes:
    """The raw stream of ``<name>.esl.txt``."""
    return (ESL_TRANSCRIPTS_DIR / f"{name}.esl.txt").read_bytes()


def transcript_frames(name: str) -> list[Frame]:
    """Every frame of ``<name>.esl.txt``; the stream must end on a frame boundary."""
    parser = FrameParser()
    frames = parser.feed(transcript_bytes(name))
    assert parser.buffered_bytes == 0, f"{name} ends inside a frame"
    return frames


def transcript_events(name: str) -> list[Event]:
    """The events of ``<name>.esl.txt``, in order."""
    return parse_events(transcript_frames(name))


HTTP_CAPTURES_DIR = ESL_TRANSCRIPTS_DIR / "http"
_END_OF_REQUEST = b"===== end of request"


def http_request(name: str) -> tuple[str, dict[str, str], bytes]:
    """The request of ``http/<name>.http.txt`` as the switch sent it: its request line,
    headers (names lower-cased) and body (exactly ``Content-Length`` bytes)."""
    raw = (HTTP_CAPTURES_DIR / f"{name}.http.txt").read_bytes()
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    body = rest[: int(headers["content-length"])]
    assert rest[len(body) :].lstrip(b"\n").startswith(_END_OF_REQUEST), (
        f"{name}: body is not Content-Length"
    )
    return lines[0], headers, body


def http_capture_text(name: str) -> str:
    """A file of ``http/`` as text (the err-log-dir copies, the decoded ``.cdr.xml``)."""
    return (HTTP_CAPTURES_DIR / name).read_text(encoding="utf-8")
