"""Framing and event parsing against the raw FreeSWITCH transcripts, cut anywhere."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.esl.events import (
    CT_API_RESPONSE,
    CT_AUTH_REQUEST,
    CT_COMMAND_REPLY,
    CT_DISCONNECT,
    EVENT_TYPES,
    Event,
    EventParseError,
    parse_event,
    parse_event_json,
    parse_events,
    parse_result,
)
from dialer.esl.frames import Frame, FrameParser, FramingError, content_length, parse_frames
from tests.support.transcripts import (
    ESL_TRANSCRIPTS_DIR,
    transcript_bytes,
    transcript_events,
    transcript_frames,
)

NAMES = sorted(p.name[: -len(".esl.txt")] for p in ESL_TRANSCRIPTS_DIR.glob("*.esl.txt"))


def feed_in_chunks(data: bytes, sizes: list[int]) -> list[Frame]:
    parser = FrameParser()
    frames: list[Frame] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        frames.extend(parser.feed(data[pos : pos + size]))
        pos += size
        i += 1
    assert parser.buffered_bytes == 0
    return frames


def test_transcripts_present() -> None:
    assert len(NAMES) >= 25


def is_hangup_hook_api_event(event: Event) -> bool:
    """The API event of an ``api_hangup_hook``: channel variables, then API-Command last."""
    names = list(event.headers)
    return (
        names[0] == "direction"
        and names[-2:] == ["API-Command", "API-Command-Argument"]
        and not {"Event-Name", "Core-UUID", "Event-Date-Timestamp"} & set(names)
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_transcript_frames_completely(name: str) -> None:
    frames = transcript_frames(name)
    assert frames[0].content_type == CT_AUTH_REQUEST
    assert frames[-1].content_type == CT_DISCONNECT
    assert frames[-1].body_text().startswith("Disconnected, goodbye.")
    nameless = [e for e in parse_events(frames) if not e.name]
    assert all(is_hangup_hook_api_event(e) for e in nameless)


def test_the_hangup_hook_fires_its_api_event_without_an_event_name() -> None:
    """y: ``api_hangup_hook=system curl ...`` on the agent leg. FreeSWITCH's api_hook runs the
    command with the channel's variables as the API event, and that copy has none of the
    headers switch_event_create adds; `event plain ALL` delivers it like any other."""
    events = transcript_events("y_recording_upload")
    [hook] = [e for e in events if not e.name]
    agent_uuid = hook.get("uuid")
    assert hook.get("Unique-ID") == agent_uuid == hook.var("uuid")
    assert hook.get("API-Command") == "system"
    assert hook.get("API-Command-Argument").startswith('curl -XPOST -F "files=@/opt/labs/')
    assert hook.body is None
    # the hook runs while the leg hangs up, before it reports the hangup complete
    after = [e.name for e in events[events.index(hook) + 1 :] if e.uuid == agent_uuid]
    assert after[1:3] == ["CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    others = [n for n in NAMES if n != "y_recording_upload"]
    assert all(e.name for n in others for e in transcript_events(n))


def test_header_lines_split_at_the_first_colon_space_and_keep_every_byte() -> None:
    """The inverse of FreeSWITCH's ``"%s: %s\n"``: a name may hold ':' (y has the variable
    ``nolocal:execute_on_answer``), a value keeps its spaces, colons and any CR."""
    exported = [e.var("nolocal:execute_on_answer") for e in transcript_events("y_recording_upload")]
    assert sum(v.startswith("record_session:/opt/labs/") for v in exported) == 22
    [frame] = parse_frames(
        b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: x \nX-A:b: c\r\n\n"
    )
    assert frame.headers == (
        ("Content-Type", "command/reply"),
        ("Reply-Text", "+OK Job-UUID: x "),
        ("X-A:b", "c\r"),
    )


def test_no_recorded_stream_holds_a_carriage_return() -> None:
    assert all(b"\r" not in transcript_bytes(n) for n in NAMES)


def test_parse_frames_leaves_out_an_incomplete_last_frame() -> None:
    data = transcript_bytes("b_busy_486")
    whole = parse_frames(data)
    assert parse_frames(data[:-1]) == whole[:-1]
    assert parse_frames(data + b"Content-Type: api/resp") == whole


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    sizes=st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=30),
)
def test_chunked_feed_equals_whole_feed(name: str, sizes: list[int]) -> None:
    data = transcript_bytes(name)
    assert feed_in_chunks(data, sizes) == transcript_frames(name)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(transcript_bytes("n_esl_commands"))))
def test_cut_at_every_position(cut: int) -> None:
    data = transcript_bytes("n_esl_commands")
    parser = FrameParser()
    frames = parser.feed(data[:cut]) + parser.feed(data[cut:])
    assert frames == transcript_frames("n_esl_commands")


def test_byte_by_byte_feed() -> None:
    data = transcript_bytes("b_busy_486")
    assert feed_in_chunks(data, [1]) == transcript_frames("b_busy_486")


def test_command_replies_and_api_responses_of_n() -> None:
    frames = transcript_frames("n_esl_commands")
    replies = [f.reply_text for f in frames if f.content_type == CT_COMMAND_REPLY]
    assert replies[:3] == [
        "+OK accepted",
        "+OK event listener enabled plain",
        "+OK event listener enabled plain",
    ]
    assert "-ERR invalid syntax" in replies
    assert "+OK filter deleted. [all][]" in replies
    jobs = [f for f in frames if f.reply_text.startswith("+OK Job-UUID: ")]
    assert all(f.header("Job-UUID") == f.reply_text.split(": ")[1] for f in jobs)
    apis = [f.body_text() for f in frames if f.content_type == CT_API_RESPONSE]
    assert apis[0] == "a9f667f3-0028-4d6e-85a8-8f583a6baa06"
    assert "_undef_" in apis
    assert "-ERR No such channel!\n" in apis


def test_background_job_body_is_kept_apart_from_headers() -> None:
    [busy] = [e for e in transcript_events("b_busy_486") if e.name == "BACKGROUND_JOB"]
    assert busy.body == "-ERR USER_BUSY\n"
    assert busy.get("Content-Length") == "15"
    assert busy.get("Job-Command") == "originate"
    jobs = {
        e.get("Job-Command"): e for e in transcript_events("n_esl_commands") if e.body is not None
    }
    status = jobs["status"].body
    assert status is not None
    assert status.startswith("UP 0 years") and status.endswith("240K/8192K\n")
    assert jobs["fslab_no_such_command"].body == "-ERR fslab_no_such_command Command not found!\n"
    assert jobs["fslab_no_such_command"].get("Job-Command-Arg") == "arg1"


def test_json_background_job_body() -> None:
    [job] = [
        e
        for e in transcript_events("a_answered_bridged_to_agent.json")
        if e.name == "BACKGROUND_JOB"
    ]
    assert job.body == "+OK 3dcb8e9f-9a56-427f-b313-60078e6406d4\n"
    assert "_body" not in job.headers
    assert parse_result(job.body).detail == "3dcb8e9f-9a56-427f-b313-60078e6406d4"


def test_plain_and_json_carry_the_same_call() -> None:
    plain = transcript_events("a_answered_bridged_to_agent")
    js = transcript_events("a_answered_bridged_to_agent.json")
    names_plain = [e.name for e in plain if e.name not in ("HEARTBEAT", "RE_SCHEDULE")]
    names_json = [e.name for e in js if e.name not in ("HEARTBEAT", "RE_SCHEDULE")]
    assert names_plain.count("CHANNEL_HANGUP_COMPLETE") == names_json.count(
        "CHANNEL_HANGUP_COMPLETE"
    )
    hangup = next(e for e in js if e.name == "CHANNEL_HANGUP" and e.var("cc_side") == "member")
    assert hangup.get("Hangup-Cause") == "NORMAL_CLEARING"
    p_hangup = next(e for e in plain if e.name == "CHANNEL_HANGUP" and e.var("cc_side") == "member")
    assert p_hangup.get("Event-Date-Local")[10] == " "  # url-decoded


def _g2(fmt: str) -> list[str]:
    """The six fs_pN values as the ANSWER event carries them, then as uuid_getvar returns them."""
    frames = transcript_frames(f"g2_percent_values_{fmt}_events")
    [answer, _park] = [parse_event(f) for f in frames if f.content_type in EVENT_TYPES]
    sent = [answer.var(f"fs_p{i}") for i in range(1, 7)]
    apis = [f.body_text() for f in frames if f.content_type == CT_API_RESPONSE][1:7]
    return [*sent, *apis]


def test_json_events_carry_values_exactly_plain_do_not() -> None:
    getvar = ["a%2Cb", "50%off", "100%", "a+b", 'say"hi"', "Zoë"]
    js = _g2("json")
    assert js[:6] == getvar
    assert js[6:] == getvar
    plain = _g2("plain")
    # the literal "a%2Cb" cannot be told apart from "a,b" in a plain event
    assert plain[0] == "a,b"
    assert plain[1:6] == getvar[1:]


def test_log_data_frames_keep_their_body() -> None:
    logs = [f for f in transcript_frames("l_sps_throttle") if f.content_type == "log/data"]
    assert logs and all(len(f.body) == int(f.header("Content-Length")) for f in logs)


@pytest.mark.parametrize(
    ("text", "ok", "detail"),
    [
        (
            "+OK 00000000-0000-4000-8000-000000000001\n",
            True,
            "00000000-0000-4000-8000-000000000001",
        ),
        ("-ERR USER_BUSY\n", False, "USER_BUSY"),
        ("-ERR no reply\n", False, "no reply"),
        ("-USAGE: <call url> <exten>", False, "USAGE: <call url> <exten>"),
        ("On Break", True, "On Break"),
        ("+OK\n", True, ""),
    ],
)
def test_parse_result(text: str, ok: bool, detail: str) -> None:
    result = parse_result(text)
    assert (result.ok, result.detail) == (ok, detail)


def test_malformed_input_is_refused() -> None:
    with pytest.raises(FramingError):
        FrameParser().feed(b"Content-Type: api/response\nContent-Length: x\n\n")
    with pytest.raises(FramingError):
        FrameParser().feed(b"garbage without colon\n\n")
    with pytest.raises(FramingError):
        FrameParser().feed(b"Content-Type: api/response\nContent-Length: 99999999999\n\n")
    with pytest.raises(EventParseError):
        parse_event_json(b"[1,2]")
    with pytest.raises(EventParseError):
        parse_event_json(b"{not json")


@pytest.mark.parametrize(
    "value",
    ["\u0661\u0662", "\uff11\uff12", "\u00b2", "+12", "-0", "1_2", "0x1", "9" * 5000, ""],
)
def test_content_length_takes_ascii_digits_only(value: str) -> None:
    """Arabic-Indic or full-width digits, signs, underscores, an empty or a 5,000-digit
    value: Python's ``int`` reads several of them, FreeSWITCH never writes them."""
    frame = b"Content-Type: api/response\nContent-Length: " + value.encode() + b"\n\nxy" * 4
    with pytest.raises(FramingError):
        FrameParser().feed(frame)
    with pytest.raises(FramingError):
        content_length(value)


@settings(max_examples=100, deadline=None)
@given(
    headers=st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters='"\\'), min_size=1, max_size=8),
        st.text(st.characters(codec="utf-8"), max_size=20),
        max_size=6,
    ),
    body=st.none() | st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
)
def test_json_events_round_trip_any_value(headers: dict[str, str], body: str | None) -> None:
    obj: dict[str, str] = {"Event-Name": "CUSTOM", **headers}
    obj.pop("_body", None)
    if body is not None:
        obj["_body"] = body
    payload = json.dumps(obj, ensure_ascii=False).encode()
    frame = f"Content-Length: {len(payload)}\nContent-Type: text/event-json\n\n".encode() + payload
    [parsed] = FrameParser().feed(frame)
    event = parse_event(parsed)
    obj.pop("_body", None)
    assert event.headers == obj
    assert event.body == body


def test_json_array_values_and_lookalikes_inside_strings() -> None:
    payload = json.dumps(
        {
            "Event-Name": "CHANNEL_ANSWER",
            "variable_transfer_history": ["1:a:bl_xfer:x", "2:b:uuid_br:y"],
            "variable_tricky": 'a":[b',
            "variable_plain": "p",
        }
    ).encode()
    event = parse_event_json(payload)
    assert event.var("transfer_history") == "ARRAY::1:a:bl_xfer:x|:2:b:uuid_br:y"
    assert event.var("tricky") == 'a":[b'
    only_lookalike = parse_event_json(json.dumps({"x": 'q":[1]', "y": "z"}).encode())
    assert only_lookalike.headers == {"x": 'q":[1]', "y": "z"}
    with pytest.raises(EventParseError):
        parse_event_json(b'{"x": 1}')


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="%"), max_size=20), max_size=8
    ),
    body=st.none() | st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
)
def test_plain_events_round_trip_values_without_percent(
    values: list[str], body: str | None
) -> None:
    """FreeSWITCH's plain serialisation (the simulator's copy) read back exactly, as long as
    no value holds a '%' (the ambiguity that makes us subscribe in JSON)."""
    from dialer.sim.eventfmt import event_frame, serialize_plain

    headers = [("Event-Name", "CUSTOM"), *((f"X-H{i}", v) for i, v in enumerate(values))]
    [frame] = FrameParser().feed(event_frame(serialize_plain(headers, body), "plain"))
    event = parse_event(frame)
    expected = dict(headers)
    if body:
        expected["Content-Length"] = str(len(body.encode()))
    assert event.headers == expected
    assert event.body == (body or None)
