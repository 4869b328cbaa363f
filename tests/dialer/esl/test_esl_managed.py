"""What only the TCP adapters of the seam do (`dialer.esl.adapters.managed.ManagedClient`,
both clients against the switch simulator): reconnecting after the line drops, the HEARTBEAT
watchdog. What every `EslConnection` does, the fake included, is the contract
(``tests/contracts/test_contract_esl_connection.py``)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import get_args

import pytest

from dialer.config import FsNode
from dialer.esl.events import Event
from dialer.esl.ports import EslClientKind, EslDisconnected, Subscription
from dialer.esl.wiring import build_esl_client
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.support.esl import originate_args

pytestmark = pytest.mark.integration

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
ADAPTERS: tuple[EslClientKind, ...] = get_args(EslClientKind)
SUB = Subscription(
    events=("CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "HEARTBEAT"),
    custom=("callcenter::info",),
    filters=(("Call-Direction", "outbound"), ("Event-Subclass", "callcenter::info")),
)


def node_of(server: SimulatorServer) -> FsNode:
    """Node ``fs1`` at the simulator's Event Socket."""
    return FsNode(name="fs1", host=server.sim.host, port=server.sim.port_number)


@pytest.mark.parametrize("kind", ADAPTERS)
def test_simulator_drops_the_line_mid_job_and_the_client_comes_back(kind: EslClientKind) -> None:
    scenario = replace(load_scenario(LAB), speed=1.0)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        connects: list[float] = []
        client = build_esl_client(
            kind,
            node_of(server),
            SUB,
            lambda e: None,
            lambda: connects.append(time.monotonic()),
            backoff_initial_s=0.05,
        ).start()
        try:
            assert client.wait_connected(5)
            # the customer answers after 1 s: the job is still pending when the line drops
            job = client.bgapi("originate " + originate_args(str(uuid.uuid4())), timeout_s=30)
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


@pytest.mark.parametrize("kind", ADAPTERS)
def test_heartbeats_keep_the_watchdog_quiet(kind: EslClientKind) -> None:
    """The simulator beats every 20 sim-seconds (1 s at speed 20): a 3 s watchdog never
    fires, also on a connection that did not list HEARTBEAT (every subscription gets it;
    silence tripping the watchdog: test_esl_client.py, test_esl_resilience.py)."""
    scenario = replace(load_scenario(LAB), speed=20.0)
    with SimulatorServer(scenario) as server:
        beats: list[Event] = []
        watched = build_esl_client(
            kind, node_of(server), Subscription(events=("HEARTBEAT",)), beats.append,
            heartbeat_timeout_s=3.0,
        ).start()  # fmt: skip
        unlisted = build_esl_client(
            kind, node_of(server), Subscription(events=("CHANNEL_ANSWER",)), lambda e: None,
            heartbeat_timeout_s=3.0,
        ).start()  # fmt: skip
        try:
            assert watched.wait_connected(5) and unlisted.wait_connected(5)
            time.sleep(4.0)
            assert len(beats) >= 2
            assert watched.connects == 1 and unlisted.connects == 1
        finally:
            watched.close()
            unlisted.close()
