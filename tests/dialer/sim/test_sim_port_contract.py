"""Contract of `dialer.sim.ports.SwitchPort`: the same assertions against the simulator's
switch core (`dialer.sim.switch.SimSwitch`) and the in-memory
`dialer.sim.callcenter.fakes.FakeSwitchPort`, so the engine's unit tests mean something for
the real switch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import pytest

from dialer.sim.ports import AgentLegRequest, SwitchPort
from dialer.sim.simulator import run_simulator

SPEED = 20.0


class Driver(Protocol):
    port: SwitchPort

    async def advance(self, seconds: float) -> None: ...

    async def new_member(self) -> str: ...


class RealDriver:
    def __init__(self, port: SwitchPort, sim: Any) -> None:
        self.port = port
        self.sim = sim

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(seconds / SPEED + 0.01)

    async def new_member(self) -> str:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        self.sim.api.run(
            "originate",
            "{origination_caller_id_number=1}sofia/gateway/gw/5550001 &park",
            fut.set_result,
        )
        reply = await asyncio.wait_for(fut, 5)
        assert reply.startswith("+OK ")
        return reply[4:].strip()


class FakeDriver:
    def __init__(self) -> None:
        from dialer.sim.callcenter.fakes import AgentScript, FakeSwitchPort

        fake = FakeSwitchPort()
        fake.scripts["good@"] = AgentScript("answer", 0.5)
        fake.scripts["busy@"] = AgentScript("USER_BUSY", 0.3)
        self.fake = fake
        self.port: SwitchPort = fake

    async def advance(self, seconds: float) -> None:
        self.fake.advance(seconds)

    async def new_member(self) -> str:
        uuid = self.fake.new_uuid()
        self.fake.add_channel(uuid, {"caller_id_number": "5550001"})
        return uuid


SCENARIO: dict[str, Any] = {
    "speed": SPEED,
    "gateways": {"gw": {}},
    "population": [{"outcomes": {"answer": 1}, "ring_time_s": 0.1, "talk_time_s": 600}],
    "agent_endpoints": [
        {"match": "good@", "answer_delay_s": 0.5},
        {"match": "busy@", "behaviour": "reject", "answer_delay_s": 0.3},
    ],
}


def with_driver(kind: str, body: Callable[[Driver], Awaitable[None]]) -> None:
    async def go() -> None:
        if kind == "fake":
            await body(FakeDriver())
            return
        async with run_simulator(SCENARIO, engine_factory=None) as sim:
            await body(RealDriver(sim.switch, sim))

    asyncio.run(go())


KINDS = ["real", "fake"]


@pytest.mark.parametrize("kind", KINDS)
def test_timers_fire_in_order_and_cancel(kind: str) -> None:
    async def body(d: Driver) -> None:
        fired: list[str] = []
        start = d.port.now_s()
        d.port.call_later(1.0, lambda: fired.append("b"))
        d.port.call_later(0.5, lambda: fired.append("a"))
        handle = d.port.call_later(0.7, lambda: fired.append("x"))
        d.port.cancel(handle)
        await d.advance(1.5)
        assert fired == ["a", "b"]
        assert d.port.now_s() - start >= 1.0

    with_driver(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_agent_leg_answers_once_with_its_variables(kind: str) -> None:
    async def body(d: Driver) -> None:
        answered: list[str] = []
        failed: list[tuple[str, str]] = []
        uuid = d.port.originate_agent_leg(
            AgentLegRequest(
                "[leg_timeout=15]sofia/external/good@agents",
                {"cc_agent": "good@default", "dialer_lead_id": "42"},
                answered.append,
                lambda u, c: failed.append((u, c)),
            )
        )
        await d.advance(1.0)
        assert answered == [uuid] and failed == []
        assert d.port.channel_exists(uuid)
        variables = d.port.channel_vars(uuid)
        assert variables["dialer_lead_id"] == "42" and variables["cc_agent"] == "good@default"
        d.port.set_var(uuid, "k", "v")
        assert d.port.channel_vars(uuid)["k"] == "v"

    with_driver(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_agent_leg_rejects_with_user_busy(kind: str) -> None:
    async def body(d: Driver) -> None:
        answered: list[str] = []
        failed: list[tuple[str, str]] = []
        uuid = d.port.originate_agent_leg(
            AgentLegRequest(
                "sofia/external/busy@agents",
                {},
                answered.append,
                lambda u, c: failed.append((u, c)),
            )
        )
        await d.advance(1.0)
        assert answered == [] and failed == [(uuid, "USER_BUSY")]
        assert not d.port.channel_exists(uuid)

    with_driver(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_bridge_then_member_hangup(kind: str) -> None:
    async def body(d: Driver) -> None:
        member = await d.new_member()
        agent = d.port.originate_agent_leg(
            AgentLegRequest(
                "sofia/external/good@agents",
                {"cc_member_session_uuid": member},
                lambda _u: None,
                lambda _u, _c: None,
            )
        )
        await d.advance(1.0)
        d.port.bridge(member, agent)
        seen: list[str] = []
        d.port.on_channel_hangup(member, lambda c: seen.append("early:" + c))
        d.port.on_hangup(member, lambda c: seen.append("member:" + c))
        d.port.on_hangup(agent, lambda c: seen.append("agent:" + c))
        d.port.hangup(member, "NORMAL_CLEARING")
        await d.advance(0.5)
        assert seen[0] == "early:NORMAL_CLEARING"
        assert sorted(seen[1:]) == ["agent:NORMAL_CLEARING", "member:NORMAL_CLEARING"]
        assert not d.port.channel_exists(member) and not d.port.channel_exists(agent)
        late: list[str] = []
        d.port.on_hangup(member, late.append)
        await d.advance(0.2)
        assert late == ["NORMAL_CLEARING"]

    with_driver(kind, body)
