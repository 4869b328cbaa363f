"""Wire format: URL encoding of plain events, frames, JSON events."""

from __future__ import annotations

import json
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.esl.events import parse_event
from dialer.esl.frames import parse_frames
from dialer.sim.eventfmt import (
    api_response,
    command_reply,
    event_frame,
    serialize_plain,
    url_encode,
)
from dialer.sim.events import SimEvent


def test_url_encode_matches_the_transcripts() -> None:
    assert url_encode("a%2Cb") == "a%2Cb"
    assert url_encode("50%off") == "50%25off"
    assert url_encode("100%") == "100%25"
    assert url_encode("a+b") == "a%2Bb"
    assert url_encode('say"hi"') == "say%22hi%22"
    assert url_encode("Zoë") == "Zo%C3%AB"
    assert url_encode("O'Brien,Pat") == "O'Brien,Pat"
    assert url_encode("Doe, John") == "Doe,%20John"
    assert url_encode("tone_stream://%(2000,0,440)") == "tone_stream%3A//%25(2000,0,440)"
    assert url_encode("fd00::2") == "fd00%3A%3A2"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="%")))
def test_plain_values_decode_back(value: str) -> None:
    assert unquote(url_encode(value)) == value
    assert "\n" not in url_encode(value)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"X-[A-Za-z0-9_-]{0,15}", fullmatch=True),
            st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="%")),
        ),
        min_size=1,
        max_size=8,
    ),
    st.one_of(st.none(), st.text(min_size=1, max_size=40)),
)
def test_event_frames_round_trip(headers: list[tuple[str, str]], body: str | None) -> None:
    event = SimEvent("CUSTOM", None, [("Event-Name", "CUSTOM"), *headers], body)
    for fmt in ("plain", "json"):
        frames = parse_frames(event_frame(event.serialized(fmt), fmt) * 2)
        assert len(frames) == 2
        decoded = parse_event(frames[0])
        expected = dict([("Event-Name", "CUSTOM"), *headers])
        if body:
            expected["Content-Length"] = str(len(body.encode()))
        assert decoded.headers == expected
        assert decoded.body == (body or None)


def test_reply_frames() -> None:
    assert (
        command_reply("+OK accepted")
        == b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    )
    assert api_response("Zoë") == b"Content-Type: api/response\nContent-Length: 4\n\nZo\xc3\xab"
    assert api_response("") == (
        b"Content-Type: api/response\nContent-Length: 14\n\n-ERR no reply\n"
    )
    text = serialize_plain([("Event-Name", "BACKGROUND_JOB")], "+OK x\n")
    assert text == "Event-Name: BACKGROUND_JOB\nContent-Length: 6\n\n+OK x\n"
    assert json.loads(SimEvent("API", None, [("A", "b")], "x").serialized("json")) == {
        "A": "b",
        "Content-Length": "1",
        "_body": "x",
    }
