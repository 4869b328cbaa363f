"""The originate parser reproduces every case of g_originate_escaping.results.txt."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sim.eventfmt import url_encode
from dialer.sim.originate_parse import (
    ORIGINATE_USAGE,
    OriginateError,
    OriginateRequest,
    parse_originate,
    separate_string,
)
from tests.support.transcripts import ESL_TRANSCRIPTS_DIR

RESULTS = ESL_TRANSCRIPTS_DIR / "g_originate_escaping.results.txt"
_VAR_LINE = re.compile(r"^  variable_(\S+) = .*\(uuid_dump raw: (.*)\)$")


def _cases() -> list[tuple[str, str, str, dict[str, str]]]:
    cases = []
    for block in RESULTS.read_text(encoding="utf-8").split("### ")[1:]:
        lines = block.splitlines()
        name = lines[0].strip()
        command = lines[1].removeprefix("API: ")
        result = lines[2].removeprefix("RESULT: ")
        raw_vars = {}
        for line in lines[3:]:
            m = _VAR_LINE.match(line)
            if m:
                raw_vars[m.group(1)] = m.group(2)
        cases.append((name, command, result, raw_vars))
    return cases


CASES = _cases()


def test_results_table_is_complete() -> None:
    assert len(CASES) == 32


@pytest.mark.parametrize(
    ("name", "command", "result", "raw_vars"), CASES, ids=[c[0] for c in CASES]
)
def test_escaping_case(name: str, command: str, result: str, raw_vars: dict[str, str]) -> None:
    parsed = parse_originate(command.removeprefix("originate "))
    if result.startswith("-"):
        assert isinstance(parsed, OriginateError)
        assert parsed.reply == result
        return
    assert isinstance(parsed, OriginateRequest)
    assert result == "+OK " + parsed.channel_vars()["origination_uuid"]
    got = {
        k: url_encode(v)
        for k, v in parsed.channel_vars().items()
        if k.startswith(("fs_", "sip_h_"))
    }
    assert got == raw_vars


def test_destinations() -> None:
    req = parse_originate(
        "{origination_caller_id_number=20220601,originate_timeout=20}"
        "sofia/gateway/carrier_a/6138000000 cc_sales XML campaign"
    )
    assert isinstance(req, OriginateRequest)
    assert (req.endpoint.kind, req.endpoint.name, req.endpoint.target) == (
        "gateway",
        "carrier_a",
        "6138000000",
    )
    assert (req.destination, req.dialplan, req.context, req.app_name) == (
        "cc_sales",
        "XML",
        "campaign",
        None,
    )
    split = parse_originate("loopback/9999/default &playback(/tmp/a b.wav)")
    assert isinstance(split, OriginateRequest)
    assert (split.app_args, split.dialplan) == ("/tmp/a", "b.wav)")
    app = parse_originate("null &bridge(user/1000)")
    assert isinstance(app, OriginateRequest)
    assert (app.endpoint.kind, app.app_name, app.app_args) == ("null", "bridge", "user/1000")


def test_usage_without_destination() -> None:
    assert parse_originate("sofia/gateway/a/1") == OriginateError(ORIGINATE_USAGE)
    assert parse_originate("") == OriginateError(ORIGINATE_USAGE)
    assert parse_originate("bogus/x &park") == OriginateError("-ERR CHAN_NOT_IMPLEMENTED")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab,\\'^: =x", max_size=8), max_size=4))
def test_separate_string_never_raises(parts: list[str]) -> None:
    for delim in (",", " ", "="):
        out = separate_string(",".join(parts), delim)
        assert all(isinstance(p, str) for p in out)
