"""The agent-first originate (click-to-call) is, byte for byte, the command of transcripts
u1-u3, and refuses what it cannot carry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialer.esl.originate import AgentFirstSpec, UnsafeValue, build_agent_first
from dialer.sim.originate_parse import OriginateRequest, parse_dial_string, parse_originate
from tests.support.transcripts import ESL_TRANSCRIPTS_DIR

SPEC = AgentFirstSpec(
    call_uuid="60971374-53c1-4792-91b6-609332e7de36",
    agent_contact="[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094",
    agent_caller_id="1001",
    dial_string="sofia/gateway/carrier_a/6138000000",
    caller_id="20220601",
    call_id=42,
)


def _sent(name: str) -> str:
    text = (ESL_TRANSCRIPTS_DIR / f"{name}.sent.txt").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ">> bgapi originate " in ln]
    return line.split(">> bgapi originate ", 1)[1]


def test_the_command_is_the_one_the_real_switch_was_sent() -> None:
    assert build_agent_first(SPEC) == _sent("u1_agent_first_customer_answers")


def test_the_switch_reads_an_agent_leg_that_bridges_to_the_trunk() -> None:
    req = parse_originate(build_agent_first(SPEC))
    assert isinstance(req, OriginateRequest)
    assert req.endpoint.kind == "profile" and req.endpoint.leg_vars == {"leg_timeout": "15"}
    assert req.global_vars["dialer_call_id"] == "42"
    assert req.app_name == "bridge"
    parsed = parse_dial_string(req.app_args)
    assert isinstance(parsed, tuple)
    b_vars, b_leg, _ = parsed
    assert b_vars == {"origination_caller_id_number": "20220601", "ignore_early_media": "true"}
    assert (b_leg.kind, b_leg.name, b_leg.target) == ("gateway", "carrier_a", "6138000000")


@pytest.mark.parametrize(
    "field",
    [
        {"agent_contact": "user/1001 &park"},
        {"agent_contact": "user/1001,sofia/gateway/x/1"},
        {"agent_contact": "{a=b}user/1001"},
        {"dial_string": "sofia/gateway/carrier_a/613&hangup"},
        {"caller_id": "2022,x=1"},
        {"agent_caller_id": "1001}"},
        {"call_uuid": "not-a-uuid"},
    ],
)
def test_values_that_could_add_a_leg_or_an_application_are_refused(
    field: dict[str, str],
) -> None:
    with pytest.raises(UnsafeValue):
        build_agent_first(replace(SPEC, **field))  # type: ignore[arg-type]


def test_a_recorded_call_records_the_agent_leg_and_uploads_under_the_call_uuid() -> None:
    from datetime import UTC, datetime

    from dialer.esl.originate import Recording

    url = "http://switch:secret@127.0.0.1:8080/fsapi/upload_audio"
    rec = Recording("/rec", file_format="wav", upload_url=url)
    now = datetime(2026, 12, 3, 9, 7, tzinfo=UTC)
    req = parse_originate(build_agent_first(replace(SPEC, recording=rec), now))
    assert isinstance(req, OriginateRequest)
    path = f"/rec/2026-12-03/{SPEC.call_uuid}.wav"
    v = req.global_vars
    assert v["execute_on_answer"] == f"record_session {path}"
    assert v["api_hangup_hook"] == (
        f'system curl -XPOST -F "files=@{path}" {url}?uuid={SPEC.call_uuid} &'
    )
    assert v["origination_uuid"] == SPEC.call_uuid and req.app_name == "bridge"
    with pytest.raises(UnsafeValue):
        build_agent_first(replace(SPEC, recording=rec))  # no time to date the folder
