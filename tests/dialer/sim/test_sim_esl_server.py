"""Event Socket server behaviour over TCP with a raw-socket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from dialer.sim.rawclient import RawClient
from dialer.sim.simulator import Simulator, run_simulator

pytestmark = pytest.mark.integration

SCENARIO: dict[str, Any] = {
    "seed": 3,
    "speed": 20.0,
    "gateways": {"gw1": {"proxy": "10.0.0.1:5060"}, "down": {"status": "DOWN"}},
    "population": [{"outcomes": {"answer": 1}, "ring_time_s": 1, "talk_time_s": 30}],
    "dialplan": [{"name": "ext", "context": "campaign"}],
}
ORIG = (
    "originate {origination_caller_id_number=100,originate_timeout=20}sofia/gateway/gw1/555 &park"
)


def run(
    body: Callable[[Simulator], Awaitable[None]], scenario: dict[str, Any] | None = None
) -> None:
    async def go() -> None:
        async with run_simulator(scenario or SCENARIO, engine_factory=None) as sim:
            await body(sim)

    asyncio.run(go())


def test_auth_and_unknown_commands() -> None:
    async def body(sim: Simulator) -> None:
        c = await RawClient.connect(sim.host, sim.port_number, password=None)
        assert (await c.command("api status")).reply_text == "-ERR invalid"
        assert (await c.command("auth wrong")).reply_text == "-ERR invalid"
        assert (await c.next_frame()).content_type == "text/disconnect-notice"
        c2 = await RawClient.connect(sim.host, sim.port_number)
        assert (await c2.command("bogus")).reply_text == "-ERR command not found"
        assert await c2.api("bogus x") == "-ERR bogus Command not found!\n"
        assert (await c2.command("exit")).reply_text == "+OK bye"
        assert (await c2.next_frame()).content_type == "text/disconnect-notice"

    run(body)


def test_api_outputs() -> None:
    async def body(sim: Simulator) -> None:
        c = await RawClient.connect(sim.host, sim.port_number)
        assert await c.api("show channels as json") == '{"row_count": 0}\n'
        assert await c.api("show channels") == "\n0 total.\n"
        assert await c.api("fsctl sps") == "+OK sessions per second: 30\n"
        assert await c.api("fsctl sps 0") == "+OK sessions per second: 30\n"
        assert await c.api("fsctl max_sessions 5") == "+OK max sessions: 5\n"
        assert await c.api("sofia status gateway nope") == "Invalid Gateway!\n"
        gw = await c.api("sofia status gateway down")
        assert "Status  \tDOWN\n" in gw and gw.startswith("=" * 97 + "\nName    \tdown\n")
        assert "external::gw1" in await c.api("sofia status")
        status = await c.api("status")
        assert "FreeSWITCH (Version 1.10.12-release  64bit) is ready\n" in status
        assert "5 session(s) max\n" in status
        assert await c.api("global_getvar hostname") == "vm"
        assert await c.api("callcenter_config agent list") == (
            "-ERR callcenter_config Command not found!\n"
        )
        assert await c.api("uuid_kill 00000000-0000-4000-8000-00000000dead") == (
            "-ERR No such channel!\n"
        )

    run(body)


def test_originate_channel_api_and_show() -> None:
    async def body(sim: Simulator) -> None:
        c = await RawClient.connect(sim.host, sim.port_number)
        reply = await c.api(ORIG)
        assert reply.startswith("+OK ")
        uuid = reply[4:].strip()
        assert await c.api(f"uuid_getvar {uuid} origination_caller_id_number") == "100"
        assert await c.api(f"uuid_getvar {uuid} nothing") == "_undef_"
        assert await c.api(f"uuid_setvar {uuid} lead 42") == "+OK\n"
        assert await c.api(f"uuid_getvar {uuid} lead") == "42"
        rows = json.loads(await c.api("show channels as json"))
        assert rows["row_count"] == 1 and rows["rows"][0]["uuid"] == uuid
        assert rows["rows"][0]["application"] == "park"
        calls = json.loads(await c.api("show calls as json"))
        assert calls["row_count"] == 1
        dump = await c.api(f"uuid_dump {uuid}")
        assert dump.startswith("Event-Name: CHANNEL_DATA\n") and "variable_lead: 42\n" in dump
        assert await c.api("hupall") == "+OK hangup all channels with cause MANAGER_REQUEST\n"
        await asyncio.sleep(0.05)
        assert await c.api("show channels as json") == '{"row_count": 0}\n'
        record = sim.records.get(uuid)
        assert record is not None and record.hangup_cause == "MANAGER_REQUEST"
        assert record.answered_s is not None and record.hangup_s is not None

    run(body)


def test_bgapi_filters_and_formats() -> None:
    async def body(sim: Simulator) -> None:
        plain = await RawClient.connect(sim.host, sim.port_number)
        js = await RawClient.connect(sim.host, sim.port_number)
        filtered = await RawClient.connect(sim.host, sim.port_number)
        assert (
            await plain.command("event plain BACKGROUND_JOB CHANNEL_ANSWER")
        ).reply_text == "+OK event listener enabled plain"
        await js.command("event json ALL")
        await filtered.command("event plain ALL")
        assert (
            await filtered.command("filter Unique-ID nothing")
        ).reply_text == "+OK filter added. [Unique-ID]=[nothing]"
        job = await plain.command("bgapi " + ORIG.replace("100", "a%2Cb"))
        job_uuid = job.header("Job-UUID")
        assert job.reply_text == f"+OK Job-UUID: {job_uuid}"
        answer = await plain.wait_event("CHANNEL_ANSWER")
        bg = await plain.wait_event("BACKGROUND_JOB")
        assert bg.get("Job-UUID") == job_uuid and bg.body == f"+OK {answer.get('Unique-ID')}\n"
        assert answer.get("variable_origination_caller_id_number") == "a,b"
        js_answer = await js.wait_event("CHANNEL_ANSWER")
        assert js_answer.get("variable_origination_caller_id_number") == "a%2Cb"
        raw = [f for f in plain.frames if f.content_type == "text/event-plain"]
        assert b"variable_origination_caller_id_number: a%2Cb\n" in raw[0].body
        await asyncio.sleep(0.05)
        assert filtered.events() == [] or all(
            e.get("Unique-ID") == "nothing" for e in filtered.events()
        )
        assert (await plain.command("noevents")).reply_text == (
            "+OK no longer listening for events"
        )
        assert (await plain.command("noevents")).reply_text == ("-ERR not listening for events")

    run(body)


def test_gateway_down_and_limits() -> None:
    async def body(sim: Simulator) -> None:
        c = await RawClient.connect(sim.host, sim.port_number)
        await c.command("event plain ALL")
        down = ORIG.replace("gateway/gw1", "gateway/down")
        assert await c.api(down) == "-ERR GATEWAY_DOWN\n"
        await c.api("status")
        names = [e.name for e in c.events()]
        assert "CHANNEL_DESTROY" in names and "CHANNEL_CREATE" not in names
        assert await c.api("fsctl max_sessions 1") == "+OK max sessions: 1\n"
        assert (await c.api(ORIG)).startswith("+OK ")
        await c.api("status")
        before = len(c.events())
        assert await c.api(ORIG) == "-ERR DESTINATION_OUT_OF_ORDER\n"
        await c.api("status")
        after = [e.name for e in c.events()[before:]]
        assert not any(n.startswith("CHANNEL_") for n in after)

    run(body)


def test_many_clients_concurrently() -> None:
    async def body(sim: Simulator) -> None:
        clients = [await RawClient.connect(sim.host, sim.port_number) for _ in range(20)]
        for c in clients:
            await c.command("event plain CHANNEL_HANGUP_COMPLETE")
        replies = await asyncio.gather(*(c.api(ORIG) for c in clients))
        assert all(r.startswith("+OK ") for r in replies)
        await clients[0].api("hupall")
        for c in clients:
            for _ in range(20):
                await c.wait_event("CHANNEL_HANGUP_COMPLETE")

    run(body)


def test_garbage_commands_get_one_reply_each() -> None:
    lines = [
        "",
        "api",
        "bgapi",
        "event",
        "event json",
        "filter",
        "filter delete",
        "nixevent ALL",
        "api originate",
        "api originate {x=",
        "api originate {x=1}sofia/gateway/gw1/1",
        "api uuid_getvar",
        "api show",
        "api sofia",
        "api fsctl",
        "api fsctl sps x",
        "api uuid_setvar x",
        "api uuid_dump nope",
        "log x",
        "\x00\xff weird \u00e9",
    ]

    async def body(sim: Simulator) -> None:
        c = await RawClient.connect(sim.host, sim.port_number)
        for line in lines:
            if not line:
                continue
            reply = await c.command(line)
            assert reply.content_type in ("command/reply", "api/response")
        assert (await c.api("status")).startswith("UP ")

    run(body)
