"""The originate builder against FreeSWITCH's parser (`dialer.sim.originate_parse`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dialer.esl.originate import (
    MIN_RING_TIMEOUT_S,
    OriginateSpec,
    Recording,
    UnsafeValue,
    build_originate,
    escape_value,
    intended_variables,
)
from dialer.sim.originate_parse import OriginateError, OriginateRequest, parse_originate

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
UUID = "c6019a7b-6024-4b1f-864d-c6cb2c92389b"
HOSTILE = ",'\"{}[]^|&\n\r\t =\\$%:;<>()@+/ \u00eb\u4e2d"
hostile_text = st.text(
    alphabet=st.sampled_from(HOSTILE) | st.characters(codec="utf-8"), max_size=40
)


def spec(**changes: object) -> OriginateSpec:
    base = OriginateSpec(
        call_uuid=UUID,
        dial_string="sofia/gateway/carrier_a/6138000000",
        caller_id="20220601",
        extension="cc_sales",
        context="campaign",
        campaign_id=7,
        lead_id=12345,
        attempt_id=99,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def parsed(s: OriginateSpec) -> OriginateRequest:
    result = parse_originate(build_originate(s, NOW))
    assert not isinstance(result, OriginateError), result
    return result


def assert_exactly_intended(s: OriginateSpec) -> None:
    req = parsed(s)
    assert req.global_vars == intended_variables(s, NOW)
    assert req.endpoint.leg_vars == {}
    assert req.endpoint.raw == s.dial_string
    assert (req.destination, req.dialplan, req.context) == (s.extension, "XML", s.context)
    assert req.app_name is None
    assert req.refused_vars == ()
    assert (req.cid_name, req.cid_num, req.timeout_s) == (None, None, None)


def test_plain_attempt_parses_like_transcript_t() -> None:
    sent_t = (
        "{origination_uuid=c6019a7b-6024-4b1f-864d-c6cb2c92389b,origination_caller_id_number="
        "20220601,originate_timeout=20,ignore_early_media=true,dialer_campaign_id=7,"
        "dialer_lead_id=12345,dialer_attempt_id=99,"
        "cc_export_vars=dialer_campaign_id\\,dialer_lead_id\\,dialer_attempt_id}"
        "sofia/gateway/carrier_a/6138000000 cc_sales XML campaign"
    )
    recorded = parse_originate(sent_t)
    assert isinstance(recorded, OriginateRequest)
    ours = parsed(spec(ring_timeout_s=20))
    assert ours.global_vars == recorded.global_vars
    assert (ours.endpoint, ours.destination, ours.context) == (
        recorded.endpoint,
        recorded.destination,
        recorded.context,
    )
    assert_exactly_intended(spec())


def test_ring_timeout_never_under_15_s() -> None:
    assert parsed(spec(ring_timeout_s=3)).global_vars["originate_timeout"] == str(
        MIN_RING_TIMEOUT_S
    )
    assert parsed(spec(ring_timeout_s=45)).global_vars["originate_timeout"] == "45"


def test_ignore_early_media_always_and_ids_exported() -> None:
    v = parsed(spec(screen_pop={"dialer_name": "Bob"})).global_vars
    assert v["ignore_early_media"] == "true"
    assert v["cc_export_vars"] == (
        "dialer_campaign_id,dialer_lead_id,dialer_attempt_id,dialer_name"
    )


def test_recording_as_in_seed() -> None:
    v = parsed(spec(recording=Recording("/var/lib/recordings/"))).global_vars
    path = f"/var/lib/recordings/2026-11-21/{UUID}.mp3"
    assert v["execute_on_answer"] == f"record_session {path}"
    assert (v["media_bug_answer_req"], v["record_sample_rate"], v["RECORD_STEREO"]) == (
        "true",
        "8000",
        "true",
    )


def test_no_caller_id_sets_none() -> None:
    assert "origination_caller_id_number" not in parsed(spec(caller_id=None)).global_vars


@pytest.mark.parametrize(
    "value",
    [
        "a,b",
        "O'Brien",
        "Bob's_cat's",
        "'a,b'",
        'say"hi"',
        "hello world",
        "  padded  ",
        "x{y}z",
        "a\\,b",
        "a\\b\\",
        "\\'",
        "50%off",
        "a%2Cb",
        "^^:x=a,b:y=c",
        "{}sofia/gateway/evil/1 &park(",
        "x,origination_uuid=evil",
        "a]b[c",
        "line1\nline2\r\n",
        "cost$5",
        "Zoë Müller 中文",
        "x' 'y",
        "",
        "=",
        "\\s\\n",
    ],
)
def test_hostile_screen_pop_values_arrive_unchanged(value: str) -> None:
    s = spec(screen_pop={"dialer_name": value, "dialer_note": value + "|x"})
    assert_exactly_intended(s)
    assert parsed(s).global_vars.get("dialer_name", "") == value


@pytest.mark.parametrize(
    "value",
    ["${uuid}", "a$${domain}", "}{", "a}", "{", "}sofia/gateway/evil/1 &park(", "\x00", "a\x1bb"],
)
def test_uncarriable_values_are_rejected(value: str) -> None:
    with pytest.raises(UnsafeValue):
        build_originate(spec(screen_pop={"dialer_name": value}), NOW)


def _carriable(value: str) -> bool:
    try:
        escape_value(value)
    except UnsafeValue:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(values=st.lists(hostile_text, min_size=1, max_size=4))
@example(values=["a'b", "c'd"])
@example(values=["{x}", "}{"])
def test_any_value_arrives_unchanged_or_is_rejected(values: list[str]) -> None:
    pop = {f"dialer_f{i}": v for i, v in enumerate(values)}
    s = spec(screen_pop=pop)
    if all(_carriable(v) for v in values):
        assert_exactly_intended(s)
    else:
        with pytest.raises(UnsafeValue):
            build_originate(s, NOW)
        bad = [v for v in values if not _carriable(v)]
        assert all(
            "${" in v
            or v.count("{") != v.count("}")
            or "}" in v
            or any((ord(c) < 0x20 and c not in "\n\r\t") or ord(c) == 0x7F for c in v)
            for v in bad
        )


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["dial_string", "caller_id", "extension", "context", "name", "rec"]),
    value=hostile_text,
)
def test_hostile_identifiers_are_rejected_or_harmless(field: str, value: str) -> None:
    changes: dict[str, object] = {
        "dial_string": {"dial_string": "sofia/gateway/carrier_a/" + value},
        "caller_id": {"caller_id": value or None},
        "extension": {"extension": value},
        "context": {"context": value},
        "name": {"screen_pop": {value: "x"}},
        "rec": {"recording": Recording("/rec/" + value)},
    }[field]
    s = spec(**changes)
    try:
        build_originate(s, NOW)
    except UnsafeValue:
        return
    assert_exactly_intended(s)


def test_bad_uuid_and_clashing_names_rejected() -> None:
    with pytest.raises(UnsafeValue):
        build_originate(spec(call_uuid="x,y"), NOW)
    with pytest.raises(UnsafeValue):
        build_originate(spec(screen_pop={"origination_uuid": "x"}), NOW)
    with pytest.raises(UnsafeValue):
        build_originate(spec(screen_pop={"dialer_lead_id": "1"}), NOW)


def test_spec_for_claimed_lead_and_router_candidate() -> None:
    from decimal import Decimal

    from campaigns.domain import ClaimedLead
    from dialer.esl.originate import spec_for
    from dialer.routing.ratedeck import RateEntry
    from dialer.routing.router import Candidate

    lead = ClaimedLead(
        id=12345,
        phone_e164="+8613800138000",
        attempts=0,
        priority=0,
        next_attempt_at=NOW,
        time_zones="Asia/Shanghai",
        region="",
        custom_fields={"name": "O'Brien, {Pat}", "vip": True, "missing": None},
    )
    route = Candidate(
        trunk="carrier_a",
        dial_string="sofia/gateway/carrier_a/9913800138000",
        caller_id="20220601",
        rate=RateEntry(prefix="86", rate_per_min=Decimal("0.05")),
    )
    s = spec_for(
        lead,
        route,
        7,
        call_uuid=UUID,
        attempt_id=99,
        extension="cc_sales",
        context="campaign",
        screen_pop_fields=("name", "vip", "missing"),
    )
    v = parsed(s).global_vars
    assert (v["dialer_name"], v["dialer_vip"], v["dialer_lead_id"]) == (
        "O'Brien, {Pat}",
        "True",
        "12345",
    )
    assert "dialer_missing" not in v
    assert parsed(s).endpoint.target == "9913800138000"


def _seed_hook_template() -> str:
    """Capture y's ``api_hangup_hook`` as the real switch was sent it (seed 001's form)."""
    from tests.support.transcripts import ESL_TRANSCRIPTS_DIR

    sent = (ESL_TRANSCRIPTS_DIR / "y_recording_upload.sent.txt").read_text(encoding="utf-8")
    return sent.split("set:api_hangup_hook=", 1)[1].split(",set:", 1)[0]


def test_the_upload_after_hangup_is_the_seed_hook_with_its_variables_written_out() -> None:
    url = "http://switch:secret@10.0.0.5:8080/fsapi/upload_audio"
    rec = Recording("/var/lib/recordings", file_format="wav", upload_url=url)
    v = parsed(spec(recording=rec)).global_vars
    path = f"/var/lib/recordings/2026-11-21/{UUID}.wav"
    expected = (
        _seed_hook_template()
        .replace("${cc_record_filename}", path)
        .replace("${curl_sendfile_url}", url)
        .replace("${uuid}", UUID)
    )
    assert v["api_hangup_hook"] == expected
    assert expected.startswith("system curl -XPOST -F ") and expected.endswith(" &")
    assert (v["curl_sendfile_url"], v["session_in_hangup_hook"]) == (url, "true")
    assert_exactly_intended(spec(recording=rec))


def test_no_upload_hook_without_an_upload_url() -> None:
    v = parsed(spec(recording=Recording("/var/lib/recordings"))).global_vars
    assert "api_hangup_hook" not in v and "curl_sendfile_url" not in v


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/x",
        "http://host/x;rm -rf /",
        "http://host/x$(id)",
        "http://host/x`id`",
        'http://host/x"',
        "http://host/x?a=b",
        "http://host/x&",
        "http://host/x|y",
    ],
)
def test_an_upload_url_the_shell_would_read_otherwise_is_refused(url: str) -> None:
    with pytest.raises(UnsafeValue):
        build_originate(spec(recording=Recording("/rec", upload_url=url)), NOW)
