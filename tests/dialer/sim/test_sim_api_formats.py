"""API output formats against the texts of f_api_outputs (real FreeSWITCH), and determinism."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialer.sim.rawclient import RawClient
from dialer.sim.simulator import load_engine_factory, run_simulator
from tests.support.transcripts import transcript_frames

pytestmark = pytest.mark.integration

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
ORIG = (
    "bgapi originate {origination_caller_id_number=20220601,originate_timeout=20,"
    "ignore_early_media=true}sofia/gateway/carrier_a/6138000000 cc_sales XML campaign"
)


def _lab() -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(yaml.safe_load(LAB.read_text(encoding="utf-8")))
    raw["speed"] = 10.0
    raw["population"][0]["talk_time_s"] = 12.0
    return raw


def _reference() -> list[str]:
    frames = transcript_frames("f_api_outputs")
    return [f.body.decode() for f in frames if f.content_type == "api/response"]


def _shape(text: str) -> str:
    return re.sub(r"\d+", "N", text)


@pytest.mark.skipif(load_engine_factory() is None, reason="callcenter engine not available")
def test_outputs_while_a_call_is_bridged_match_the_capture() -> None:
    ref = _reference()
    ref_channels = json.loads(next(r for r in ref if r.startswith('{"row_count":2')))
    ref_calls = json.loads(next(r for r in ref if r.startswith('{"row_count":1')))
    ref_gateway = next(r for r in ref if "Name    \tcarrier_a" in r)
    ref_status = next(r for r in ref if r.startswith("UP "))

    async def go() -> dict[str, str]:
        async with run_simulator(_lab()) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain CHANNEL_BRIDGE")
            await c.command(ORIG)
            await c.wait_event("CHANNEL_BRIDGE", timeout_s=5)
            return {
                "channels": await c.api("show channels as json"),
                "calls": await c.api("show calls as json"),
                "gateway": await c.api("sofia status gateway carrier_a"),
                "status": await c.api("status"),
            }

    out = asyncio.run(go())
    channels = json.loads(out["channels"])
    assert channels["row_count"] == 2
    assert [list(r) for r in channels["rows"]] == [list(r) for r in ref_channels["rows"]]
    assert [r["state"] for r in channels["rows"]] == ["CS_SOFT_EXECUTE", "CS_EXCHANGE_MEDIA"]
    assert [r["application"] for r in channels["rows"]] == ["uuid_bridge", "uuid_bridge"]
    calls = json.loads(out["calls"])
    assert calls["row_count"] == 1
    assert list(calls["rows"][0]) == list(ref_calls["rows"][0])
    assert [ln.split("\t")[0] for ln in out["gateway"].splitlines()] == [
        ln.split("\t")[0] for ln in ref_gateway.splitlines()
    ]
    assert _shape(out["status"]).splitlines()[1:6] == _shape(ref_status).splitlines()[1:6]


def test_same_seed_same_calls() -> None:
    scenario = {
        "seed": 11,
        "speed": 50.0,
        "gateways": {"gw": {}},
        "population": [
            {
                "outcomes": {"answer": 0.5, "busy": 0.3, "no_answer": 0.2},
                "ring_time_s": {"uniform": [0.5, 3]},
                "talk_time_s": {"exponential": 5},
                "answering_machine": 0.3,
            }
        ],
    }

    async def go() -> list[tuple[str, str, bool]]:
        async with run_simulator(scenario, engine_factory=None) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            for i in range(25):  # below fsctl sps 30 (29 per second)
                await c.command(f"bgapi originate {{a=1}}sofia/gateway/gw/{i:04d} &park")
            return [(r.uuid, r.planned_outcome, r.machine) for r in sim.records.all()]

    first, second = asyncio.run(go()), asyncio.run(go())
    assert first == second
    assert {o for _, o, _ in first} == {"answer", "busy", "no_answer"}


def test_sofia_status_layout_matches_the_capture() -> None:
    ref = next(r for r in _reference() if r.lstrip().startswith("Name\t"))

    async def go() -> str:
        async with run_simulator(_lab(), engine_factory=None) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            return await c.api("sofia status")

    got = asyncio.run(go())
    # the capture was taken during a bridged call: RUNNING (2) calls on the external profile
    assert got == ref.replace("RUNNING (2)", "RUNNING (0)")
