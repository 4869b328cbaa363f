"""A greenswitch 0.0.19 client (what the dialer's ESL adapter is built on) against the
simulator running on its own thread."""

from __future__ import annotations

import time
from typing import Any

import greenswitch
import pytest

from dialer.sim.simulator import SimulatorServer

pytestmark = pytest.mark.integration

SCENARIO: dict[str, Any] = {
    "speed": 10.0,
    "gateways": {"gw1": {}},
    "population": [{"outcomes": {"busy": 1}, "reject_delay_s": 0.3}],
}


def test_greenswitch_api_bgapi_and_events() -> None:
    with SimulatorServer(SCENARIO, engine_factory=None) as server:
        conn = greenswitch.InboundESL(server.sim.host, server.sim.port_number, "ClueCon")
        conn.connect()
        seen: list[Any] = []
        conn.register_handle("*", seen.append)
        conn.send("event plain CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB")
        assert conn.send("api status").data.startswith("UP 0 years")
        reply = conn.send(
            "bgapi originate {origination_caller_id_number=1}sofia/gateway/gw1/555 &park"
        )
        assert reply.headers["Reply-Text"].startswith("+OK Job-UUID: ")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            e.headers.get("Event-Name") == "BACKGROUND_JOB" for e in seen
        ):
            greenswitch.esl.gevent.sleep(0.05)
        names = [e.headers.get("Event-Name") for e in seen]
        assert names == ["CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"]
        hangup = seen[1]
        assert hangup.headers["Hangup-Cause"] == "USER_BUSY"
        assert hangup.headers["variable_sip_term_status"] == "486"
        # greenswitch keeps the body of a plain event inside Content-Length (see README)
        assert "-ERR USER_BUSY" in seen[2].headers["Content-Length"]
        conn.stop()
        records = server.call(lambda: server.sim.records.all())
        assert [r.hangup_cause for r in records] == ["USER_BUSY"]
