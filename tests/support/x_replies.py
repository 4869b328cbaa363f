"""The exact replies of transcript x (``x_preflight_state_commands``): each ``api`` command of
its ``.sent.txt`` paired, in order, with the ``api/response`` frames of its byte stream."""

from __future__ import annotations

from functools import cache

from tests.support.transcripts import ESL_TRANSCRIPTS_DIR, transcript_frames

NAME = "x_preflight_state_commands"


@cache
def _replies() -> dict[str, str]:
    sent = (ESL_TRANSCRIPTS_DIR / f"{NAME}.sent.txt").read_text(encoding="utf-8")
    commands = [line.split(">> ", 1)[1] for line in sent.splitlines() if ">> api " in line]
    bodies = [f.body.decode() for f in transcript_frames(NAME) if f.content_type == "api/response"]
    assert len(commands) == len(bodies), (len(commands), len(bodies))
    return {c.removeprefix("api "): b for c, b in zip(commands, bodies, strict=True)}


def x_reply(command: str) -> str:
    """The reply FreeSWITCH gave to ``api <command>`` in transcript x."""
    return _replies()[command]
