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
