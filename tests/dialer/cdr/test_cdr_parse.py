"""The CDR bodies mod_xml_cdr really posts (transcripts v, v3, v4: tests/data/esl/http) ->
their facts -> the attempt's end."""

from __future__ import annotations

import pytest

from campaigns.domain import AttemptOutcome
from dialer.calls.machine import CallState
from dialer.cdr.parse import (
    MAX_CDR_BYTES,
    CdrError,
    cdr_xml_of,
    err_log_xml,
    parse_cdr,
    parse_cdr_post,
)
from dialer.cdr.settle import end_from_cdr, unsettled_end
from tests.support.cdr import captured_post, with_dialer_ids
from tests.support.transcripts import http_capture_text, http_request

CAPTURES = [
    "v1_cdr_answered_bridged",
    "v1_cdr_busy",
    "v1_cdr_abandoned",
    "v1_cdr_500_try1",
    "v3_cdr_encode_false",
    "v4_cdr_encode_textxml",
    "w1_cdr_of_the_xmlcurl_call",
]


@pytest.mark.parametrize("name", CAPTURES)
def test_every_captured_encoding_gives_the_decoded_xml(name: str) -> None:
    request_line, headers, body = http_request(name)
    assert request_line.startswith("POST /cdr?uuid=a_")
    xml_text = cdr_xml_of(headers["content-type"], body)
    assert xml_text == http_capture_text(f"{name}.cdr.xml")
    facts = parse_cdr(xml_text)
    assert request_line.split()[1] == f"/cdr?uuid=a_{facts.call_uuid}"
    assert facts.core_uuid == "d41c8639-93a7-4003-91c0-bef6027a810a"
    assert facts.attempt_id is None  # the lab set no dialer ids


def test_answered_and_bridged_to_an_agent_is_connected() -> None:
    facts = parse_cdr_post(*captured_post("v1_cdr_answered_bridged", (7, 12345, 99)))
    assert (facts.campaign_id, facts.lead_id, facts.attempt_id) == (7, 12345, 99)
    assert facts.agent == "agent6@default"  # URL-decoded a second time
    assert (facts.billsec, facts.hangup_cause, facts.sip_status) == (20, "NORMAL_CLEARING", "200")
    assert facts.dialed_number == "6138000000"
    end = end_from_cdr(facts)
    assert end.outcome is AttemptOutcome.CONNECTED and not end.abandoned
    assert (end.agent, end.trunk, end.hangup_cause_q850) == ("agent6@default", "carrier_a", 16)
    assert end.connected_at is not None and end.answered_at is not None
    assert end.ended_at is not None
    assert (end.ended_at - end.answered_at).total_seconds() == pytest.approx(20.04, abs=0.01)


def test_answered_queued_and_cancelled_is_abandoned() -> None:
    facts = parse_cdr_post(*captured_post("v1_cdr_abandoned", (7, 1, 2)))
    assert (facts.cancel_reason, facts.billsec, facts.agent_bridged) == ("TIMEOUT", 5, False)
    end = end_from_cdr(facts)
    assert end.outcome is AttemptOutcome.ABANDONED and end.abandoned
    assert "TIMEOUT" in end.disposition


@pytest.mark.parametrize("name", ["v1_cdr_busy", "v3_cdr_encode_false", "v4_cdr_encode_textxml"])
def test_busy_in_each_encoding(name: str) -> None:
    end = end_from_cdr(parse_cdr_post(*captured_post(name, (7, 1, 2))))
    assert (end.outcome, end.hangup_cause, end.sip_status) == (
        AttemptOutcome.BUSY,
        "USER_BUSY",
        "486",
    )
    assert end.answered_at is None and end.attempt_id == 2


@pytest.mark.parametrize(
    "name",
    [
        "v1_err-log-dir_after_500__a_a8626551-19b8-459b-a34a-5eecd2004b4d.cdr.xml",
        "v2_err-log-dir_receiver_down__a_5824cad0-e155-40d8-886c-b71dfd660f40.cdr.xml",
    ],
)
def test_err_log_dir_files_are_the_posted_xml(name: str) -> None:
    facts = parse_cdr(err_log_xml(http_capture_text(name)))
    assert name.endswith(f"a_{facts.call_uuid}.cdr.xml")
    assert facts.hangup_cause == "USER_BUSY"


def test_the_sessions_own_dialer_variables_come_through() -> None:
    xml_text = with_dialer_ids(http_capture_text("v1_cdr_busy.cdr.xml"), 1, 2, 3)
    xml_text = xml_text.replace(
        "<variables>\n",
        "<variables>\n    <dialer_recording_path>/r/a%20b.wav</dialer_recording_path>\n",
    )
    assert parse_cdr(xml_text).recording_path == "/r/a b.wav"


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        ("application/x-www-form-urlencoded", b"xml=<cdr/>", "must start with cdr="),
        ("application/json", b"cdr={}", "unsupported CDR content type"),
        ("text/xml", b"<cdr><variables/></cdr>", "without a uuid"),
        ("text/xml", b"<nope/>", "not a CDR"),
        ("text/xml", b"<cdr><variables>", "not well-formed"),
        ("text/xml", b"\xff\xfe", "not UTF-8"),
        (
            "text/xml",
            b'<!DOCTYPE cdr [<!ENTITY a "aaaa">]><cdr><variables/></cdr>',
            "DOCTYPE",
        ),
        ("text/xml", b"<cdr>" + b"x" * MAX_CDR_BYTES + b"</cdr>", "limit"),
    ],
)
def test_what_is_not_a_cdr_is_named(content_type: str, body: bytes, problem: str) -> None:
    with pytest.raises(CdrError, match=problem):
        parse_cdr_post(content_type, body)


def _seen(**fields: object) -> CallState:
    return CallState("00000000-0000-4000-8000-000000000001", 1, 2, 3, "carrier_a", **fields)  # type: ignore[arg-type]


def test_a_call_seen_bridged_is_connected_without_its_cdr() -> None:
    end = unsettled_end(
        _seen(answered_at_us=1, connected_at_us=2, agent="a1"), 9, switch_restarted=True
    )
    assert end.outcome is AttemptOutcome.CONNECTED and not end.unsettled


def test_a_call_only_ringing_when_its_switch_restarted_is_not_counted() -> None:
    end = unsettled_end(_seen(created=True, progressed=True), 9, switch_restarted=True)
    assert (end.outcome, end.unsettled, end.hangup_cause) == (None, False, "SWITCH_RESTARTED")


@pytest.mark.parametrize(
    ("seen", "restarted"),
    [
        ({"created": True, "progressed": True}, False),  # same switch: the CDR may come late
        ({"answered_at_us": 1}, True),  # answered: may have reached an agent unseen
        ({"answered_at_us": 1}, False),
        ({}, False),  # an attempt row nobody heard of
    ],
)
def test_anything_else_without_a_cdr_is_unknown(seen: dict[str, object], restarted: bool) -> None:
    end = unsettled_end(_seen(**seen), 9, switch_restarted=restarted)
    assert (end.outcome, end.unsettled, end.abandoned) == (None, True, False)


@pytest.mark.parametrize(
    ("seen", "outcome"),
    [
        ({"job_error": "NO_ANSWER", "start_unseen": True}, AttemptOutcome.FAILED),
        ({"job_error": "NO_ANSWER", "created": True, "progressed": True}, AttemptOutcome.NO_ANSWER),
        ({"job_error": "USER_BUSY", "start_unseen": True}, AttemptOutcome.BUSY),
        ({"job_error": "DESTINATION_OUT_OF_ORDER", "start_unseen": True}, None),  # refused
    ],
)
def test_a_call_whose_originate_failed_ends_as_its_job_said_without_a_cdr(
    seen: dict[str, object], outcome: AttemptOutcome | None
) -> None:
    end = unsettled_end(_seen(**seen), 9, switch_restarted=False)
    assert (end.outcome, end.unsettled) == (outcome, False)
