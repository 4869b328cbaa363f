"""API calls end to end: the real app served by uvicorn, PostgreSQL, Redis, the switch
simulator over TCP and a listener against it.

A click-to-call reaches the switch as an agent leg, then (once the agent answered) a customer
leg through the routed trunk; the call's end and its ``ext`` come back in GET and in the
``call.ended`` webhook, whose delivery is listed as a campaign call's; a retried request with
the same Idempotency-Key, also two at once, places no second call. A callback reserved for an
agent is not dialled while the listener sees that agent on break, and when it is dialled the
agent answers before the customer is called: it cannot be abandoned. While an agent is on an
API call, mod_callcenter offers it no queue call: a campaign's caller waiting in its queue is
bridged to it only after the API call ended."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import Campaign
from campaigns.rules import CallingWindow
from dialer.agents.orm import AgentRow, AgentTierRow
from dialer.apicalls.adapters import SqlApiCallStore
from dialer.apicalls.callbacks import dispatch_callbacks
from dialer.apicalls.holds import release_agent_of
from dialer.apicalls.service import CallDeps
from dialer.apicalls.webhook import deliver_call_webhook
from dialer.apicalls.wiring import LazySwitch, call_deps
from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.ports import Role
from dialer.config import FsNode, Settings
from dialer.db.base import make_engine, make_session_factory, transaction
from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import Subscription
from dialer.listener.wiring import node_listeners
from dialer.postcall.adapters import HttpxSender
from dialer.postcall.wiring import post_call_deps
from dialer.routing.model import CallerIdPolicy, Trunk
from dialer.routing.ratedeck import RateEntry
from dialer.routing.service import add_trunk, import_rates
from dialer.routing.wiring import redis_trunk_state
from dialer.sim.population import Dist, PopulationRule
from dialer.sim.records import CallRecord
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import migrated_database
from tests.support.api import bearer, issue_test_keys, served
from tests.support.waiting import wait_until
from workers.api import create_app
from workers.context import AppContext

pytestmark = pytest.mark.integration

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
NAMESPACE = "test:apicalls"
AGENT = "agent1@default"
CONTACT = "[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094"
QUEUE_CALLERS = "6138000"
QUEUE_CALL = (  # a campaign's call as the pacer sends it, answered into sales@default
    "originate {origination_caller_id_number=20220601,originate_timeout=20,"
    "ignore_early_media=true}sofia/gateway/carrier_a/%s cc_sales XML campaign"
)
EXT = {"order": 4711, "tags": ["vip", "回拨"], "nested": {"ok": True, "none": None}}


class Receiver:
    """A webhook receiver on loopback: every POST body, parsed."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class Rig:
    base: str
    tokens: dict[Role, str]
    sim: SimulatorServer
    receiver: Receiver
    deps: CallDeps
    esl: EslClient

    def records(self) -> list[CallRecord]:
        sim = self.sim.sim
        return list(self.sim.call(lambda: list(sim.switch.records.all())))

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = bearer(self.tokens[Role.SYSTEM])
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.post(self.base + path, json=body, headers=headers, timeout=30)

    def get(self, call_uuid: str) -> dict[str, Any]:
        got = httpx.get(
            f"{self.base}/v1/calls/{call_uuid}", headers=bearer(self.tokens[Role.SYSTEM])
        )
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    def deliveries(self, call_uuid: str) -> list[dict[str, Any]]:
        got = httpx.get(
            f"{self.base}/v1/calls/{call_uuid}/deliveries",
            headers=bearer(self.tokens[Role.SYSTEM]),
        )
        assert got.status_code == 200, got.text
        listed: list[dict[str, Any]] = got.json()["deliveries"]
        return listed

    def ended(self, call_uuid: str) -> dict[str, Any]:
        assert wait_until(lambda: self.get(call_uuid)["status"] == "ended", 30)
        return self.get(call_uuid)

    def agent_status(self, status: str, agent: str = AGENT) -> None:
        reply = self.esl.api(f"callcenter_config agent set status {agent} '{status}'")
        assert reply.startswith("+OK"), reply

    def agent_state(self) -> str:
        return self.esl.api(f"callcenter_config agent get state {AGENT}").strip()

    def record(self, number: str) -> CallRecord:
        """The switch's record of the call to ``number`` (an empty one before it exists)."""
        found = [r for r in self.records() if r.number == number]
        return found[0] if found else CallRecord("", "", number, 0.0)


def _seed(sessions: sessionmaker[Session], webhook_url: str) -> None:
    with transaction(sessions) as session:
        add_trunk(
            session,
            Trunk(
                name="carrier_a",
                proxy_host="127.0.0.1",
                proxy_port=5090,
                callee_prefix="6",
                caller_id=CallerIdPolicy(numbers=("20220601",)),
                max_concurrency=10,
            ),
        )
        import_rates(session, "carrier_a", [RateEntry("86", Decimal("0.05"))])
        session.add(
            Campaign(
                name="spring",
                queue_name="sales@default",
                calling_window=CallingWindow.always_open().model_dump(mode="json"),
                webhook_url=webhook_url,
            )
        )
        agent = AgentRow(name=AGENT, contact=CONTACT)
        agent.tiers.append(AgentTierRow(queue="sales@default"))
        session.add(agent)


@pytest.fixture
def rig(request: pytest.FixtureRequest, redis_urls: Any) -> Iterator[Rig]:
    client: redis.Redis[str] = redis.Redis.from_url(redis_urls.default, decode_responses=True)
    for key in client.scan_iter(f"{NAMESPACE}:*"):
        client.delete(key)
    lab = load_scenario(LAB)
    # the queue's callers (numbers 6138000...) stay on the line 30 s, on hold or talking
    waiting = PopulationRule(prefix=QUEUE_CALLERS, talk_time_s=Dist("fixed", 30.0))
    scenario = replace(lab, speed=4.0, population=(waiting, *lab.population))
    receiver = Receiver()
    with (
        migrated_database("postgresql", request) as url,
        SimulatorServer(scenario) as sim_server,
    ):
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        _seed(sessions, receiver.url)
        sim = sim_server.sim
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        settings = Settings(database_url=url, redis_url=redis_urls.default, freeswitch_nodes=[node])
        context = AppContext(settings, sessions=sessions, redis_client=client, namespace=NAMESPACE)
        trunks = redis_trunk_state(client, NAMESPACE)
        store = SqlApiCallStore(sessions, trunks.reservations)
        sender = HttpxSender()
        post_call = post_call_deps(sessions, context.clock, sender)
        deps = call_deps(
            settings, sessions, client, context.clock, context.ids, namespace=NAMESPACE
        )

        def ended(call_uuid: str) -> None:  # what the api_call_ended task does
            release_agent_of(store, deps.holds, call_uuid)
            deliver_call_webhook(call_uuid, store, post_call)

        # the listener process's own wiring, its notifier delivering the webhook at once
        (listener,) = node_listeners(
            settings,
            client,
            sessions,
            context.clock,
            None,
            namespace=NAMESPACE,
            reconcile_every_s=3600,
            notify_api_call=ended,
        )
        esl = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        assert listener.client.wait_connected(5) and esl.wait_connected(5)
        app = create_app(context, notify=None, trunks=trunks.reservations)
        try:
            with served(app) as base:
                tokens = issue_test_keys(sessions)
                # the system key's calls go to its own webhook, signed
                SqlKeyStore(sessions).set_webhook(
                    tokens[Role.SYSTEM].split("_")[1], receiver.url, "s3cret"
                )
                yield Rig(base, tokens, sim_server, receiver, deps, esl)
        finally:
            assert isinstance(deps.switch, LazySwitch)
            deps.switch.close()
            esl.close()
            listener.stop()
            sender.close()
            receiver.close()
            engine.dispose()
            client.close()


def test_click_to_call_rings_the_agent_then_the_customer_through_the_routed_trunk(
    rig: Rig,
) -> None:
    body = {"number": "13800138000", "agent": AGENT, "campaign": "spring", "ext": EXT}
    placed = rig.post("/v1/calls", body, key="order-4711")
    assert placed.status_code == 201, placed.text
    call = placed.json()
    assert call["status"] == "dialing" and call["trunk"] == "carrier_a"
    assert call["ext"] == EXT and call["number"] == "+8613800138000"

    ended = rig.ended(call["uuid"])
    assert ended["outcome"] == "connected" and ended["hangup_cause"] == "NORMAL_CLEARING"
    assert ended["agent"] == AGENT and ended["trunk"] == "carrier_a"
    assert ended["agent_answered_at"] < ended["answered_at"] <= ended["connected_at"]
    assert ended["ext"] == EXT

    agent_leg, customer_leg = rig.records()
    assert agent_leg.uuid == call["uuid"] and agent_leg.number == "agent1@127.0.0.1:5094"
    assert customer_leg.gateway == "carrier_a" and customer_leg.number == "613800138000"
    assert customer_leg.created_s >= agent_leg.answered_s  # type: ignore[operator]

    assert wait_until(lambda: len(rig.receiver.bodies) == 1, 10)
    (hook,) = rig.receiver.bodies
    assert hook["event"] == "call.ended" and hook["call_uuid"] == call["uuid"]
    assert hook["ext"] == EXT and hook["outcome"] == "connected"
    # kept in the one delivery store of every webhook: listed as a campaign call's are
    assert wait_until(lambda: len(rig.deliveries(call["uuid"])) == 1, 10)
    (delivery,) = rig.deliveries(call["uuid"])
    assert (delivery["event"], delivery["delivery"], delivery["state"]) == (
        "call.ended", call["uuid"], "delivered",
    )  # fmt: skip
    assert [t["status_code"] for t in delivery["tries"]] == [204]

    again = rig.post("/v1/calls", body, key="order-4711")
    assert again.status_code == 200 and again.json()["uuid"] == call["uuid"]
    assert len(rig.records()) == 2  # no second call reached the switch


def test_two_concurrent_requests_with_one_idempotency_key_place_one_call(rig: Rig) -> None:
    body = {"number": "+8613800138001", "agent": AGENT, "trunks": "carrier_a", "ext": EXT}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: rig.post("/v1/calls", body, key="k-1"), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["uuid"] for a in answers}) == 1
    assert wait_until(lambda: len(rig.records()) == 2, 10)  # one agent leg, one customer leg
    rig.ended(answers[0].json()["uuid"])
    assert len(rig.records()) == 2
    other = rig.post("/v1/calls", {**body, "number": "+8613800138002"}, key="k-1")
    assert other.status_code == 422 and "Idempotency-Key" in other.text


def test_a_callback_reserved_for_a_busy_agent_waits_and_is_never_abandoned(rig: Rig) -> None:
    rig.agent_status("On Break")
    assert wait_until(lambda: _listener_sees(rig, "On Break"), 10)
    body = {"number": "13800138003", "agent": AGENT, "campaign": "spring", "ext": EXT}
    scheduled = rig.post("/v1/callbacks", body)
    assert scheduled.status_code == 201, scheduled.text
    uuid = scheduled.json()["uuid"]
    for _ in range(3):
        assert dispatch_callbacks(rig.deps, "test").dialled == 0
    assert rig.get(uuid)["status"] == "scheduled" and rig.records() == []

    rig.agent_status("Available")
    assert wait_until(lambda: _listener_sees(rig, "Available"), 10)
    assert dispatch_callbacks(rig.deps, "test").dialled == 1
    ended = rig.ended(uuid)
    assert ended["outcome"] == "connected" and ended["ext"] == EXT
    agent_leg, customer_leg = rig.records()
    assert agent_leg.uuid == uuid
    assert customer_leg.created_s >= agent_leg.answered_s  # type: ignore[operator]
    assert not customer_leg.abandoned
    assert dispatch_callbacks(rig.deps, "test").dialled == 0  # dialled once


def _listener_sees(rig: Rig, status: str) -> bool:
    agents = {a.name: a for a in rig.deps.live.agents()} if rig.deps.live else {}
    return AGENT in agents and agents[AGENT].status == status


def test_refusals_name_the_field_and_write_nothing(rig: Rig) -> None:
    cases = [
        ({"number": "12", "agent": AGENT}, 422, "body.number"),
        ({"number": "13800138000", "agent": "nobody"}, 422, "body.agent"),
        ({"number": "13800138000", "agent": AGENT, "trunks": "nope"}, 422, "body.trunks"),
        ({"number": "13800138000", "agent": AGENT, "campaign": "x"}, 422, "body.campaign"),
        ({"number": "13800138000", "agent": AGENT, "ext": "x" * 5000}, 413, "body.ext"),
        ({"number": "13800138000", "agent": AGENT, "bogus": 1}, 422, "body.bogus"),
    ]
    for body, status, field in cases:
        got = rig.post("/v1/calls", body)
        assert got.status_code == status, (body, got.text)
        assert field in got.text
    past = {"number": "13800138000", "agent": AGENT, "at": "2020-01-01T00:00:00Z"}
    got = rig.post("/v1/callbacks", past)
    assert got.status_code == 422 and "body.at" in got.text
    assert rig.records() == []


def test_an_agent_on_an_api_call_is_offered_no_queue_call_until_the_call_ended(rig: Rig) -> None:
    rig.agent_status("Logged Out", "agent2@default")  # agent1 alone takes sales@default's
    placed = rig.post("/v1/calls", {"number": "13800138004", "agent": AGENT})
    assert placed.status_code == 201, placed.text
    uuid = placed.json()["uuid"]
    assert wait_until(lambda: rig.agent_state() == "Idle", 5)  # held before its phone rang
    # a campaign's call answered meanwhile waits in the agent's queue ...
    rig.esl.bgapi(QUEUE_CALL % "6138000005")
    assert wait_until(lambda: rig.record("6138000005").queue_joined_s is not None, 10)
    assert rig.ended(uuid)["outcome"] == "connected"
    # ... and is bridged to the agent only once the API call ended and released it
    assert wait_until(lambda: rig.record("6138000005").bridged_s is not None, 10)
    queue_call = rig.record("6138000005")
    (agent_leg,) = [r for r in rig.records() if r.uuid == uuid]
    assert queue_call.agent == AGENT and agent_leg.hangup_s is not None
    assert queue_call.bridged_s is not None and queue_call.bridged_s > agent_leg.hangup_s
