"""One set of assertions for the `EslConnection` seam: the fake, and both TCP adapters (the
own `EslClient` and `GreenswitchClient`, built by `build_esl_client`) against the switch
simulator (integration)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer.config import FsNode
from dialer.esl.events import Event
from dialer.esl.factory import build_esl_client
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.seam import (
    EslClientKind,
    EslConnection,
    EslDisconnected,
    EslTimeout,
    EventLog,
    FakeEslConnection,
    Subscription,
)
from dialer.sim.originate_parse import OriginateRequest, parse_originate
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
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


ADAPTERS: tuple[EslClientKind, ...] = ("own", "greenswitch")


@pytest.fixture(
    params=["fake", *(pytest.param(kind, marks=pytest.mark.integration) for kind in ADAPTERS)]
)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    log = EventLog()
    if request.param == "fake":
        holder: list[FakeEslConnection] = []
        fake = FakeEslConnection("fs1", SUB, log, fake_switch(lambda e: holder[0].emit(e)))
        holder.append(fake)
        yield Harness(fake, log)
        return
    scenario = replace(load_scenario(LAB), speed=20.0)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        client = build_esl_client(
            request.param, FsNode(name="fs1", host=sim.host, port=sim.port_number), SUB, log
        ).start()
        assert client.wait_connected(5)
        try:
            yield Harness(client, log)
        finally:
            client.close()


def originate_command(call_uuid: str) -> str:
    spec = OriginateSpec(
        call_uuid=call_uuid,
        dial_string="sofia/gateway/carrier_a/6138000000",
        caller_id="20220601",
        extension="cc_sales",
        context="campaign",
        campaign_id=7,
        lead_id=12345,
        attempt_id=99,
        screen_pop={"dialer_name": "O'Brien, Pat"},
    )
    return "originate " + build_originate(spec, datetime.now(UTC))


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


@pytest.mark.integration
@pytest.mark.parametrize("kind", ADAPTERS)
def test_simulator_drops_the_line_mid_job_and_the_client_comes_back(kind: EslClientKind) -> None:
    scenario = replace(load_scenario(LAB), speed=1.0)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        connects: list[float] = []
        client = build_esl_client(
            kind,
            FsNode(name="fs1", host=sim.host, port=sim.port_number),
            SUB,
            lambda e: None,
            lambda: connects.append(time.monotonic()),
            backoff_initial_s=0.05,
        ).start()
        try:
            assert client.wait_connected(5)
            # the customer answers after 1 s: the job is still pending when the line drops
            job = client.bgapi(originate_command(str(uuid.uuid4())), timeout_s=30)
            time.sleep(0.1)
            dropped_at = time.monotonic()
            server.call(lambda: [c.writer.transport.abort() for c in sim.server.connections])
            with pytest.raises(EslDisconnected):
                job.result(timeout=5)
            assert time.monotonic() - dropped_at < 1.0
            deadline = time.monotonic() + 5
            while client.connects < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.connected and client.connects == 2
            assert client.api("status", timeout_s=5).startswith("UP ")
            assert len(connects) == 2
        finally:
            client.close()


@pytest.mark.integration
@pytest.mark.parametrize("kind", ADAPTERS)
def test_heartbeats_keep_the_watchdog_quiet(kind: EslClientKind) -> None:
    """The simulator beats every 20 sim-seconds (1 s at speed 20): a 3 s watchdog never
    fires; a connection without HEARTBEAT events is not watched at all (silence tripping
    the watchdog: test_esl_client.py)."""
    scenario = replace(load_scenario(LAB), speed=20.0)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        beats: list[Event] = []
        watched = build_esl_client(
            kind,
            FsNode(name="fs1", host=sim.host, port=sim.port_number),
            Subscription(events=("HEARTBEAT",)),
            beats.append,
            heartbeat_timeout_s=3.0,
        ).start()
        unwatched = build_esl_client(
            kind,
            FsNode(name="fs1", host=sim.host, port=sim.port_number),
            Subscription(events=("CHANNEL_ANSWER",)),
            lambda e: None,
            heartbeat_timeout_s=0.5,
        ).start()
        try:
            assert watched.wait_connected(5) and unwatched.wait_connected(5)
            time.sleep(4.0)
            assert len(beats) >= 2
            assert watched.connects == 1 and unwatched.connects == 1
        finally:
            watched.close()
            unwatched.close()


def test_event_log_waits_for_a_match_and_times_out_by_name() -> None:
    log = EventLog()
    first = Event({"Event-Name": "HEARTBEAT"})
    log(first)
    threading.Timer(0.05, lambda: log(Event({"Event-Name": "CHANNEL_ANSWER"}))).start()
    answered = log.wait_for(lambda e: e.name == "CHANNEL_ANSWER", 5)
    assert answered.name == "CHANNEL_ANSWER" and log.events[0] is first
    with pytest.raises(EslTimeout, match=r"no matching event within 0\.05 s"):
        log.wait_for(lambda e: e.name == "CHANNEL_HANGUP", 0.05)
