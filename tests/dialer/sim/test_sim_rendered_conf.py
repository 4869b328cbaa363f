"""The simulator runs the rendered configuration (queues of callcenter.conf.xml, the campaign
dialplan, read by `dialer.sim.rendered_conf`) over TCP: a call originated the way the dialer
does enters the campaign's queue; with no agent it leaves after at most 2 s, hears the
safe-harbor message and is hung up (abandoned); with an agent set up through `dialer.agent_admin`
it is bridged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialer import agent_admin
from dialer.esl.adapters.own import EslClient
from dialer.esl.events import Event
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.routing.model import Trunk
from dialer.sim.records import CallRecord
from dialer.sim.rendered_conf import scenario_blacklist, scenario_extensions, scenario_queues
from dialer.sim.simulator import SimulatorServer
from fs_conf.dialplan import DialplanOptions, dialplan_entry, dialplan_xml
from fs_conf.dnc import DNC_HANGUP_CAUSE, DNC_LIST, switch_dnc
from fs_conf.switch import QueueSettings, callcenter_xml, queues_for
from tests.support.esl import EventLog

pytestmark = pytest.mark.integration

LAB = Path(__file__).parents[3] / "scenarios/sim/lab.yaml"
QUEUE = "sales@default"
SAFE_HARBOR = "/usr/share/freeswitch/sounds/dialer/safe_harbor.wav"
SUB = Subscription(
    events=("CHANNEL_EXECUTE", "CHANNEL_HANGUP_COMPLETE"), custom=("callcenter::info",)
)


def test_rendered_config_maps_to_scenario_entries() -> None:
    campaigns = [("sales", "sales@default"), ("debts.2026", "collections@acme")]
    plan = dialplan_xml(campaigns, DialplanOptions(safe_harbor="/s.wav"))
    entries = scenario_extensions(plan, 1.5)
    assert entries == [
        {
            "name": "cc_debts.2026",
            "context": "campaign",
            "queue": "collections@acme",
            "answer": True,
            "hangup_after_bridge": True,
            "after_queue_playback": "/s.wav",
            "after_queue_playback_s": 1.5,
            "dnc_list": DNC_LIST,
        },
        {
            "name": "cc_sales",
            "context": "campaign",
            "queue": "sales@default",
            "answer": True,
            "hangup_after_bridge": True,
            "after_queue_playback": "/s.wav",
            "after_queue_playback_s": 1.5,
            "dnc_list": DNC_LIST,
        },
    ]
    queues = scenario_queues(callcenter_xml(queues_for(["sales@default"], QueueSettings())))
    assert queues[0]["name"] == "sales@default"
    assert queues[0]["max_wait_time_s"] == 2 and queues[0]["tier_rules_apply"] is False


@dataclass
class RenderedSwitch:
    server: SimulatorServer
    conn: EslClient
    log: EventLog

    def wait_for(self, pred: Callable[[Event], bool], timeout_s: float = 20) -> Event:
        return self.log.wait_for(pred, timeout_s)

    def record(self, call_uuid: str) -> CallRecord:
        rec: CallRecord | None = self.server.call(lambda: self.server.sim.records.get(call_uuid))
        assert rec is not None
        return rec


# the global DNC as the switch holds it: a number, and a prefix, as carrier_a dials them
DNC = switch_dnc(["+16138000005"], ["+1613800001"], [Trunk(name="carrier_a", proxy_host="h")])


def rendered_scenario() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(LAB.read_text(encoding="utf-8"))
    raw["speed"] = 10.0
    raw["population"][0]["talk_time_s"] = 20.0
    campaigns = [("spring", QUEUE), ("other", "other@default")]
    options = DialplanOptions(safe_harbor=SAFE_HARBOR, dnc_prefix_regex=DNC.prefix_regex)
    plan = dialplan_xml(campaigns, options)
    raw["dialplan"] = scenario_extensions(plan, safe_harbor_s=2.0)
    raw["blacklists"] = {DNC_LIST: scenario_blacklist(DNC.list_text())}
    queues = callcenter_xml(queues_for([QUEUE, "other@default"], QueueSettings()))
    raw["callcenter"] = {"queues": scenario_queues(queues), "agents": [], "tiers": []}
    return raw


@pytest.fixture
def switch() -> Iterator[RenderedSwitch]:
    log = EventLog()
    with SimulatorServer(rendered_scenario()) as server:
        sim = server.sim
        conn = EslClient("fs1", sim.host, sim.port_number, "ClueCon", SUB, log).start()
        assert conn.wait_connected(5)
        try:
            yield RenderedSwitch(server, conn, log)
        finally:
            conn.close()


def originate(sw: RenderedSwitch, number: str = "6138000000") -> str:
    entry = dialplan_entry("spring", QUEUE)
    call_uuid = str(uuid.uuid4())
    spec = OriginateSpec(
        call_uuid=call_uuid,
        dial_string=f"sofia/gateway/carrier_a/{number}",
        caller_id="20220601",
        extension=entry.extension,
        context=entry.context,
        campaign_id=7,
        lead_id=1,
        attempt_id=1,
    )
    result = sw.conn.bgapi("originate " + build_originate(spec, datetime.now(UTC))).result(20)
    assert result.ok, result.text
    return call_uuid


def _of(call_uuid: str, name: str) -> Callable[[Event], bool]:
    return lambda e: e.name == name and e.get("Unique-ID") == call_uuid


def test_no_agent_means_safe_harbor_then_hangup(switch: RenderedSwitch) -> None:
    call_uuid = originate(switch)
    end = switch.wait_for(_of(call_uuid, "CHANNEL_HANGUP_COMPLETE"))
    assert end.get("Hangup-Cause") == "NORMAL_CLEARING"
    queued = switch.wait_for(
        lambda e: (
            e.get("CC-Action") == "member-queue-start"
            and e.get("CC-Member-Session-UUID") == call_uuid
        )
    )
    assert queued.get("CC-Queue") == QUEUE
    apps = [
        (e.get("Application"), e.get("Application-Data"))
        for e in switch.log.events
        if _of(call_uuid, "CHANNEL_EXECUTE")(e)
    ]
    assert apps.index(("callcenter", QUEUE)) < apps.index(("playback", SAFE_HARBOR))
    rec = switch.record(call_uuid)
    assert rec.queue == QUEUE and rec.abandoned
    assert rec.cc_cancel_reason in ("TIMEOUT", "NO_AGENT_TIMEOUT")
    assert rec.queue_joined_s is not None and rec.queue_left_s is not None
    assert rec.queue_left_s - rec.queue_joined_s <= 2.05


def test_ready_agent_takes_the_call(switch: RenderedSwitch) -> None:
    contact = "[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094"
    agent_admin.add(switch.conn, "agent1@default", contact, agent_admin.Tier(QUEUE))
    agent_admin.set_status(switch.conn, "agent1@default", "ready")
    call_uuid = originate(switch)
    bridged = switch.wait_for(
        lambda e: (
            e.get("CC-Action") == "bridge-agent-start"
            and e.get("CC-Member-Session-UUID") == call_uuid
        )
    )
    assert bridged.get("CC-Agent") == "agent1@default"
    rec = switch.record(call_uuid)
    assert rec.queue == QUEUE and not rec.abandoned and rec.agent == "agent1@default"


@pytest.mark.parametrize("number", ["6138000005", "6138000012"])
def test_a_dnc_number_originated_by_hand_is_refused_by_the_switch(
    switch: RenderedSwitch, number: str
) -> None:
    # listed (6138000005) or under a listed prefix (+1613800001): never answered into the queue
    call_uuid = originate(switch, number)
    end = switch.wait_for(_of(call_uuid, "CHANNEL_HANGUP_COMPLETE"))
    assert end.get("Hangup-Cause") == DNC_HANGUP_CAUSE
    apps = [e.get("Application") for e in switch.log.events if _of(call_uuid, "CHANNEL_EXECUTE")(e)]
    assert "callcenter" not in apps and apps[0] == "execute_extension"
    assert switch.record(call_uuid).queue == ""
