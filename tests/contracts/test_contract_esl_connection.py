"""The `EslConnection` contract (`dialer.esl.ports`): `FakeEslConnection`, and both TCP
adapters built by `build_esl_client` (the own `EslClient` and `GreenswitchClient`) against
the switch simulator. Commands, bgapi jobs and the events they cause, exact values.

What only the TCP adapters do (reconnecting, the HEARTBEAT watchdog) is proved in
``tests/dialer/esl/test_esl_managed.py``; the `EventLog` every harness waits with is proved
here, last, since every assertion on events rests on it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pytest

from dialer.config import FsNode
from dialer.esl.events import Event
from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import EslClientKind, EslConnection, EslTimeout, Subscription
from dialer.esl.wiring import build_esl_client
from dialer.sim.originate_parse import OriginateRequest, parse_originate
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import Backend
from tests.support.esl import EventLog, originate_args

PORT = "esl_connection"
LAB = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "lab.yaml"
SUB = Subscription(
    events=("CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "HEARTBEAT"),
    custom=("callcenter::info",),
    filters=(("Call-Direction", "outbound"), ("Event-Subclass", "callcenter::info")),
)


@dataclass
class Harness:
    conn: EslConnection
    log: EventLog

    def wait_for(self, pred: Callable[[Event], bool], timeout_s: float = 10) -> Event:
        return self.log.wait_for(pred, timeout_s)


def fake_switch(emit: Callable[[Event], None]) -> Callable[[str], str]:
    """The fake's API: originate answers at once and the call ends at once."""

    def respond(command: str) -> str:
        cmd, _, args = command.partition(" ")
        if cmd == "status":
            return "UP 0 years, 0 days\nFreeSWITCH (Version 1.10.12-release  64bit) is ready\n"
        if cmd == "originate":
            req = parse_originate(args)
            assert isinstance(req, OriginateRequest)
            call_uuid = req.global_vars["origination_uuid"]
            base = {"Unique-ID": call_uuid, "Call-Direction": "outbound"}
            base.update({f"variable_{k}": v for k, v in req.global_vars.items()})
            emit(Event({"Event-Name": "CHANNEL_ANSWER", **base}))
            emit(Event({"Event-Name": "CHANNEL_HANGUP_COMPLETE", **base}))
            return f"+OK {call_uuid}\n"
        return f"-ERR {cmd} Command not found!\n"

    return respond


@pytest.fixture
def harness(backend: Backend) -> Iterator[Harness]:
    log = EventLog()
    if backend.is_fake:
        holder: list[FakeEslConnection] = []
        fake = FakeEslConnection("fs1", SUB, log, fake_switch(lambda e: holder[0].emit(e)))
        holder.append(fake)
        yield Harness(fake, log)
        return
    scenario = replace(load_scenario(LAB), speed=20.0)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        kind = cast(EslClientKind, backend.name)
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        client = build_esl_client(kind, node, SUB, log).start()
        assert client.wait_connected(5)
        try:
            yield Harness(client, log)
        finally:
            client.close()


def originate_command(call_uuid: str) -> str:
    return "originate " + originate_args(call_uuid, screen_pop={"dialer_name": "O'Brien, Pat"})


def test_api_status_and_unknown_command(harness: Harness) -> None:
    assert harness.conn.connected
    assert harness.conn.api("status", timeout_s=5).startswith("UP 0 years")
    assert harness.conn.api("fslab_nope arg", timeout_s=5) == "-ERR fslab_nope Command not found!\n"


def test_bgapi_originate_resolves_with_the_preassigned_uuid(harness: Harness) -> None:
    call_uuid = str(uuid.uuid4())
    result = harness.conn.bgapi(originate_command(call_uuid), timeout_s=10).result(timeout=10)
    assert result.ok and result.detail == call_uuid
    job = harness.wait_for(lambda e: e.name == "BACKGROUND_JOB")
    assert job.body is not None and job.body.startswith(f"+OK {call_uuid}")


def test_channel_events_carry_the_ids_exactly(harness: Harness) -> None:
    call_uuid = str(uuid.uuid4())
    harness.conn.bgapi(originate_command(call_uuid), timeout_s=10)
    end = harness.wait_for(
        lambda e: e.name == "CHANNEL_HANGUP_COMPLETE" and e.uuid == call_uuid, timeout_s=15
    )
    assert end.var("dialer_lead_id") == "12345"
    assert end.var("dialer_name") == "O'Brien, Pat"
    assert end.var("ignore_early_media") == "true"


def test_commands_are_single_lines(harness: Harness) -> None:
    with pytest.raises(ValueError):
        harness.conn.api("status\n\nbgapi hupall", timeout_s=1)


def test_event_log_waits_for_a_match_and_times_out_by_name() -> None:
    log = EventLog()
    first = Event({"Event-Name": "HEARTBEAT"})
    log(first)
    threading.Timer(0.05, lambda: log(Event({"Event-Name": "CHANNEL_ANSWER"}))).start()
    answered = log.wait_for(lambda e: e.name == "CHANNEL_ANSWER", 5)
    assert answered.name == "CHANNEL_ANSWER" and log.events[0] is first
    with pytest.raises(EslTimeout, match=r"no matching event within 0\.05 s"):
        log.wait_for(lambda e: e.name == "CHANNEL_HANGUP", 0.05)
