"""The pure rebuild (`dialer.routing.rebuild`): which channels are the dialer's calls and on
which trunk, and the call uuids up per trunk."""

from __future__ import annotations

import pytest

from dialer.esl.events import Event, parse_event_plain
from dialer.routing.rebuild import DialerChannel, dialer_channel, lines_in_use
from tests.support.transcripts import transcript_events, transcript_frames

CUSTOMER = "c6019a7b-6024-4b1f-864d-c6cb2c92389b"


def dump(uuid: str = "u1", **variables: str) -> Event:
    headers = {"Event-Name": "CHANNEL_DATA", "Unique-ID": uuid}
    headers.update({f"variable_{k}": v for k, v in variables.items()})
    return Event(headers)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            dump(dialer_attempt_id="99", sip_gateway_name="cheap_cn"),
            DialerChannel("u1", "cheap_cn", "99"),
        ),
        (dump(sip_gateway_name="cheap_cn"), None),  # not originated by the dialer
        (dump(dialer_attempt_id="99"), None),  # did not leave through a gateway
        (dump("", dialer_attempt_id="99", sip_gateway_name="cheap_cn"), None),
        (
            dump(dialer_attempt_id="99", sip_gateway_name="x", cc_member_session_uuid=CUSTOMER),
            None,
        ),
        (dump(dialer_attempt_id="99", sip_gateway_name="x", cc_side="agent"), None),
        (
            dump(dialer_attempt_id="99", sip_gateway_name="x", cc_side="member"),
            DialerChannel("u1", "x", "99"),
        ),
    ],
    ids=["customer", "foreign", "no-gateway", "no-uuid", "agent-leg", "agent-side", "member"],
)
def test_dialer_channel(event: Event, expected: DialerChannel | None) -> None:
    assert dialer_channel(event) == expected


def test_the_customer_leg_of_transcript_t_is_a_line_of_its_gateway() -> None:
    answer = next(
        e
        for e in transcript_events("t_origination_uuid_export_vars")
        if e.name == "CHANNEL_ANSWER" and e.uuid == CUSTOMER
    )
    assert dialer_channel(answer) == DialerChannel(CUSTOMER, "carrier_a", "99")


def test_the_agent_leg_dumped_in_transcript_t_is_not_a_line() -> None:
    (body,) = [
        f.body
        for f in transcript_frames("t_origination_uuid_export_vars")
        if f.content_type == "api/response" and f.body.startswith(b"Event-Name: CHANNEL_DATA")
    ]
    agent = parse_event_plain(body)
    assert agent.var("dialer_attempt_id") == "99"  # exported to the agent leg
    assert dialer_channel(agent) is None


@pytest.mark.parametrize(
    ("channels", "trunks", "expected"),
    [
        ([], ["a"], {"a": []}),
        ([], [], {}),
        (
            [DialerChannel("u2", "a", "2"), DialerChannel("u1", "a", "1")],
            ["a", "b"],
            {"a": ["u1", "u2"], "b": []},
        ),
        (  # the same call listed twice counts once
            [DialerChannel("u1", "a", "1"), DialerChannel("u1", "a", "1")],
            ["a"],
            {"a": ["u1"]},
        ),
        (  # a trunk not being rebuilt is left alone
            [DialerChannel("u1", "a", "1"), DialerChannel("u9", "gone", "9")],
            ["a"],
            {"a": ["u1"]},
        ),
    ],
    ids=["idle", "no-trunk", "two-trunks", "duplicate", "other-trunk"],
)
def test_lines_in_use(
    channels: list[DialerChannel], trunks: list[str], expected: dict[str, list[str]]
) -> None:
    assert lines_in_use(channels, trunks) == expected
