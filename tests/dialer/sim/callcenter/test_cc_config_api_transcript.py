"""``callcenter_config`` replies and events, byte for byte, against the m transcript
(m_callcenter_config_api: every command of .sent.txt, every api/response and callcenter::info
event of the raw .esl.txt stream)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.fakes import FakeSwitchPort
from dialer.sim.callcenter.lab import lab_config

DATA = Path(__file__).parent / "data"
BASE_S = 1_795_271_377.5  # epoch of the connection's second 0 (first event: ...377.707)
NO_REPLY = "-ERR no reply\n"


def _frames(raw: bytes) -> list[tuple[dict[str, str], bytes]]:
    out: list[tuple[dict[str, str], bytes]] = []
    i = 0
    while True:
        j = raw.find(b"\n\n", i)
        if j < 0:
            return out
        head = dict(line.split(": ", 1) for line in raw[i:j].decode().split("\n") if ": " in line)
        i = j + 2
        n = int(head.get("Content-Length", "0"))
        out.append((head, raw[i : i + n]))
        i += n


def _steps() -> list[tuple[float, str, str, list[dict[str, str]]]]:
    """(seconds, api args, exact reply, cc events fired while it ran) per api command."""
    sent = []
    for line in (DATA / "m_callcenter_config_api.sent.txt").read_text().splitlines():
        m = re.match(r"\s*([\d.]+) @byte \d+ >> (.*)$", line)
        assert m
        sent.append((float(m.group(1)), m.group(2)))
    api_cmds = [
        (at, cmd[len("api callcenter_config") :].strip())
        for at, cmd in sent
        if cmd.startswith("api ")
    ]
    steps: list[tuple[float, str, str, list[dict[str, str]]]] = []
    for head, body in _frames((DATA / "m_callcenter_config_api.esl.txt").read_bytes()):
        kind = head.get("Content-Type")
        if kind == "api/response":
            at, args = api_cmds[len(steps)]
            steps.append((at, args, body.decode(), []))
        elif kind == "text/event-plain":
            text = body.decode().split("\n\n", 1)[0]
            pairs = [ln.split(": ", 1) for ln in text.split("\n")]
            cc = {k: urllib.parse.unquote(v) for k, v in pairs if k.startswith("CC-")}
            steps[-1][3].append(cc)
    assert len(steps) == len(api_cmds)
    return steps


Events = list[dict[str, str]]
Replay = list[tuple[str, str, str, Events, Events]]


@pytest.fixture(scope="module")
def replay() -> Replay:
    port = FakeSwitchPort(start_s=BASE_S)
    engine = Callcenter(port, lab_config())
    for agent in ("agent1@default", "agent2@default"):
        engine.api(f"agent set status {agent} Available")
        engine.api(f"agent set state {agent} Waiting")
    for name, abandoned in (
        ("noagent@default", 1),
        ("noagent0@default", 1),
        ("sales2s@default", 11),
    ):
        engine.store.queues[name].calls_abandoned = abandoned
    out: Replay = []
    for at, args, expected, expected_events in _steps():
        port.run_until(BASE_S + at)
        mark = len(port.log)
        reply = engine.api(args)
        events = [
            {k: v for k, v in e.headers.items() if k.startswith("CC-")} for e in port.log[mark:]
        ]
        out.append((args, reply, expected, events, expected_events))
    return out


def test_every_reply_is_byte_exact(replay: Replay) -> None:
    assert len(replay) == 80
    for args, reply, expected, _, _ in replay:
        want = "" if expected == NO_REPLY else expected
        assert reply == want, args


def test_every_event_matches(replay: Replay) -> None:
    for args, _, _, events, expected_events in replay:
        assert events == expected_events, args


def test_usage_and_no_reply_cases() -> None:
    engine = Callcenter(FakeSwitchPort(), lab_config())
    assert engine.api("").startswith("-USAGE: \ncallcenter_config <target> <args>,\n")
    assert engine.api("member list") == ""
    assert engine.api("agent get uuid agent1@default") == ""
