"""Trunk failures, carrier limits, endpoints, early media and answering machines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dialer.sim.rawclient import RawClient
from dialer.sim.simulator import Simulator, run_simulator
from dialer.sim.sip import ring_limit

pytestmark = pytest.mark.integration


def scenario(**gateways: dict[str, Any]) -> dict[str, Any]:
    return {
        "seed": 5,
        "speed": 20.0,
        "gateways": gateways or {"gw": {}},
        "population": [
            {"outcomes": {"answer": 1}, "ring_time_s": 0.5, "talk_time_s": 20},
            {"prefix": "9", "outcomes": {"answer": 1}, "answering_machine": 1.0},
            {"prefix": "8", "outcomes": {"answer": 1}, "early_media": 1.0},
        ],
    }


def originate(target: str, extra: str = "", dest: str = "&park") -> str:
    return f"originate {{originate_timeout=10{extra}}}{target} {dest}"


async def _api(sim: Simulator, *commands: str) -> list[str]:
    c = await RawClient.connect(sim.host, sim.port_number)
    return [await c.api(cmd) for cmd in commands]


def run(scn: dict[str, Any], *commands: str) -> tuple[list[str], Simulator]:
    async def go() -> tuple[list[str], Simulator]:
        async with run_simulator(scn, engine_factory=None) as sim:
            return await _api(sim, *commands), sim

    return asyncio.run(go())


def test_gateway_states_and_unknown_gateway() -> None:
    replies, sim = run(
        scenario(up={}, down={"status": "DOWN"}, icmp={"status": "UNREACHABLE"}),
        originate("sofia/gateway/down/1"),
        originate("sofia/gateway/icmp/1"),
        originate("sofia/gateway/nope/1"),
        originate("sofia/gateway/up/1"),
    )
    assert replies[:3] == [
        "-ERR GATEWAY_DOWN\n",
        "-ERR NORMAL_TEMPORARY_FAILURE\n",
        "-ERR INVALID_GATEWAY\n",
    ]
    assert replies[3].startswith("+OK ")
    causes = [r.hangup_cause for r in sim.records.all()]
    assert causes[:3] == ["GATEWAY_DOWN", "NORMAL_TEMPORARY_FAILURE", "INVALID_GATEWAY"]


def test_carrier_concurrency_limit_answers_503() -> None:
    replies, sim = run(
        scenario(small={"max_calls": 2}),
        *(originate(f"sofia/gateway/small/{i}") for i in range(3)),
    )
    assert [r[:3] for r in replies] == ["+OK", "+OK", "-ER"]
    assert replies[2] == "-ERR NORMAL_TEMPORARY_FAILURE\n"
    assert sim.records.all()[2].hangup_cause == "NORMAL_TEMPORARY_FAILURE"


def test_carrier_cps_limit_answers_503() -> None:
    # real time, clock started on a whole second: the 4 originates share one second
    scn = scenario(slow={"max_cps": 2}) | {"speed": 1.0, "start_epoch_s": 1_800_000_000.0}

    async def go() -> list[str]:
        async with run_simulator(scn, engine_factory=None) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain BACKGROUND_JOB")
            for i in range(4):
                await c.command("bgapi " + originate(f"sofia/gateway/slow/{i}"))
            return sorted([(await c.wait_event("BACKGROUND_JOB")).body[:4] for _ in range(4)])

    assert asyncio.run(go()) == ["+OK ", "+OK ", "-ERR", "-ERR"]


def test_local_endpoints() -> None:
    replies, _ = run(
        scenario(),
        originate("null"),
        originate("loopback/1000/default"),
        originate("user/1000@example.com"),
        originate("error/USER_BUSY"),
        originate("bogus/x"),
    )
    assert all(r.startswith("+OK ") for r in replies[:3])
    assert replies[3:] == ["-ERR USER_BUSY\n", "-ERR CHAN_NOT_IMPLEMENTED\n"]


def test_machines_and_early_media_in_ground_truth() -> None:
    async def go() -> tuple[Simulator, list[str]]:
        async with run_simulator(scenario(), engine_factory=None) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            await c.command("event plain CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_EXECUTE")
            await c.api(originate("sofia/gateway/gw/9000"))
            ok = await c.api(
                originate(
                    "sofia/gateway/gw/8000",
                    ",ignore_early_media=false,execute_on_answer=echo",
                )
            )
            uuid = ok[4:].strip()
            while (await c.wait_event("CHANNEL_ANSWER")).get("Unique-ID") != uuid:
                pass
            await c.api("status")  # events of the answer are written before this reply
            return sim, [ok, *(e.name for e in c.events() if e.get("Unique-ID") == uuid)]

    sim, seen = asyncio.run(go())
    machine, early = sim.records.all()
    assert machine.machine and not machine.abandoned
    assert not early.machine and early.progress_s is not None
    assert seen[0].startswith("+OK ")
    # with ignore_early_media=false the originate returns on the 183 and the application
    # runs on the early leg; execute_on_answer runs at the 200 OK
    assert seen[1:] == [
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_EXECUTE",
        "CHANNEL_ANSWER",
        "CHANNEL_EXECUTE",
    ]
    assert early.originate_reply.startswith("+OK") and early.answered_s is not None


def test_ring_limits() -> None:
    assert ring_limit({"leg_timeout": "5", "originate_timeout": "20"}, None) == (
        5.9,
        "ALLOTTED_TIMEOUT",
    )
    assert ring_limit({"originate_timeout": "20"}, 30) == (20.0, "NO_ANSWER")
    assert ring_limit({}, 30) == (30.0, "NO_ANSWER")
    assert ring_limit({}, None) == (60.0, "NO_ANSWER")


def test_leg_timeout_on_a_customer_leg() -> None:
    scn = scenario() | {"population": [{"outcomes": {"no_answer": 1}}]}
    replies, sim = run(
        scn,
        originate("[leg_timeout=1]sofia/gateway/gw/1"),
        originate("sofia/gateway/gw/2").replace("originate_timeout=10", "originate_timeout=2"),
    )
    assert replies == ["-ERR ALLOTTED_TIMEOUT\n", "-ERR NO_ANSWER\n"]
    assert [r.hangup_cause for r in sim.records.all()] == ["ALLOTTED_TIMEOUT", "NO_ANSWER"]
