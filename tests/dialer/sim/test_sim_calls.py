"""Whole calls through the dialplan and the integrated callcenter engine; ground truth."""

from __future__ import annotations

import asyncio
import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialer.sim.rawclient import RawClient
from dialer.sim.simulator import Simulator, load_engine_factory, run_simulator

pytestmark = pytest.mark.integration

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
ORIG = (
    "bgapi originate {origination_caller_id_number=20220601,originate_timeout=20,"
    "ignore_early_media=true}sofia/gateway/carrier_a/%s cc_sales2s XML campaign"
)


def lab_one_agent() -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(yaml.safe_load(LAB.read_text(encoding="utf-8")))
    # 5x keeps a 0.5 s queue check at 100 ms of wall time, so a busy machine's scheduling
    # delays stay well inside the timing the assertions check.
    raw["speed"] = 5.0
    raw["population"] = [{"ring_time_s": 1, "talk_time_s": 6, "post_dial_delay_s": 0.02}]
    raw["callcenter"]["agents"][1]["status"] = "Logged Out"
    return raw


@pytest.mark.skipif(load_engine_factory() is None, reason="callcenter engine not available")
def test_bridged_and_abandoned_calls_in_ground_truth(tmp_path: Path) -> None:
    async def go() -> Simulator:
        async with run_simulator(lab_one_agent()) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain CHANNEL_HANGUP_COMPLETE CUSTOM callcenter::info")
            await c.command(ORIG % "6138000001")
            await asyncio.sleep(0.2)
            await c.command(ORIG % "6138000002")
            for _ in range(2):
                while True:
                    ev = await c.wait_event("CHANNEL_HANGUP_COMPLETE", timeout_s=5)
                    if (ev.get("Caller-RDNIS") or "").startswith("61380000"):
                        break
            return sim

    sim = asyncio.run(go())
    first, second = sim.records.all()
    assert first.number == "6138000001" and first.agent == "agent1@default"
    assert first.bridged_s is not None and not first.abandoned
    assert second.queue == "sales2s@default" and second.cc_cancel_reason == "TIMEOUT"
    assert second.abandoned and second.bridged_s is None
    waited = (second.queue_left_s or 0) - (second.queue_joined_s or 0)
    # max-wait-time 2 compares whole epoch seconds, so the member goes once floor(now) is
    # floor(joined) + 2: more than 1 s after the join however late a 0.5-s check runs (a
    # busy machine delays them, and at 5x a 0.2-s delay is a simulated second)
    assert 1.0 < waited <= 2.3
    sim.records.dump(tmp_path / "r.csv")
    sim.records.dump(tmp_path / "r.json")
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["abandoned"] for r in rows] == ["False", "True"]
    assert json.loads((tmp_path / "r.json").read_text())[1]["cc_cancel_reason"] == "TIMEOUT"


def test_without_engine_the_callcenter_app_is_missing() -> None:
    async def go() -> tuple[str, str]:
        async with run_simulator(lab_one_agent(), engine_factory=None) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain CHANNEL_HANGUP")
            await c.command(ORIG % "6138000001")
            ev = await c.wait_event("CHANNEL_HANGUP")
            return ev.get("Hangup-Cause") or "", await c.api("callcenter_config queue list")

    cause, reply = asyncio.run(go())
    assert cause == "DESTINATION_OUT_OF_ORDER"
    assert reply == "-ERR callcenter_config Command not found!\n"


@pytest.mark.skipif(load_engine_factory() is None, reason="callcenter engine not available")
def test_customer_stays_when_agent_hangs_up_without_hangup_after_bridge() -> None:
    raw = lab_one_agent()
    raw["dialplan"].append(
        {
            "name": "cc_stay",
            "context": "campaign",
            "queue": "sales@default",
            "hangup_after_bridge": False,
        }
    )
    raw["agent_endpoints"] = [{"match": "agent1@", "answer_delay_s": 0.5, "hangup_after_s": 1.0}]
    orig = ORIG.replace("cc_sales2s", "cc_stay") % "6138000009"

    async def go() -> list[str]:
        async with run_simulator(raw) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain CHANNEL_HANGUP CHANNEL_UNBRIDGE PLAYBACK_START")
            await c.command(orig)
            names = []
            while True:
                ev = await c.wait_event("CHANNEL_HANGUP", timeout_s=5)
                names.append(ev.get("Caller-Destination-Number") or "")
                if names[-1] == "cc_stay":
                    break
            await c.api("status")
            return [e.name + ":" + (e.get("Caller-Destination-Number") or "") for e in c.events()]

    seen = asyncio.run(go())
    assert seen == [
        "PLAYBACK_START:cc_stay",  # music on hold in the queue
        "CHANNEL_HANGUP:agent1",
        "CHANNEL_UNBRIDGE:cc_stay",
        "PLAYBACK_START:cc_stay",  # the extension continues: safe-harbor message
        "CHANNEL_HANGUP:cc_stay",
    ]


@pytest.mark.skipif(load_engine_factory() is None, reason="callcenter engine not available")
def test_campaign_scenario_mix_of_outcomes() -> None:
    raw: dict[str, Any] = yaml.safe_load((LAB.parent / "campaign.yaml").read_text(encoding="utf-8"))
    raw["speed"] = 100.0
    orig = (
        "bgapi originate {{origination_caller_id_number=4000,originate_timeout=30,"
        "ignore_early_media=true}}sofia/gateway/{gw}/{num} cc_campaign XML campaign"
    )

    async def go() -> Simulator:
        async with run_simulator(raw) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain BACKGROUND_JOB")
            for i in range(60):
                gw = ("cheap_cn", "premium_cn", "broken")[i % 3]
                num = f"1380000{i:04d}" if i % 2 else f"0105550{i:04d}"
                await c.command(orig.format(gw=gw, num=num))
                await asyncio.sleep(0.005)
            for _ in range(60):
                await c.wait_event("BACKGROUND_JOB", timeout_s=10)
            while any(ch.kind == "customer" for ch in sim.switch.channels.values()):
                await asyncio.sleep(0.05)
            return sim

    sim = asyncio.run(go())
    records = sim.records.all()
    assert len(records) == 60
    causes = {r.hangup_cause for r in records if r.gateway == "broken"}
    assert causes == {"GATEWAY_DOWN"}
    others = [r for r in records if r.gateway != "broken"]
    assert any(r.bridged_s is not None for r in others)
    assert any(r.planned_outcome == "no_answer" and r.hangup_cause == "NO_ANSWER" for r in others)
    assert all(r.agent.endswith("@campaign") for r in others if r.bridged_s is not None)
    assert all(r.hangup_s is not None for r in records)
