"""``/v1/agents`` through the real app against the switch simulator over TCP, on SQLite and
PostgreSQL, with the listener writing the agents' live state to the test Redis: changes are
made on the switch as ``dialer agents`` makes them, an agent key acts only on itself, a node
that cannot be reached is named and nothing is changed anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.ports import Role
from dialer.clock import SYSTEM_CLOCK
from dialer.config import FsNode, load_settings
from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import Subscription
from dialer.listener.fakes import MemoryTrunks
from dialer.listener.wiring import node_listeners
from dialer.sim.simulator import SimulatorServer
from tests.support.api import bearer, issue_test_keys
from tests.support.net import free_port
from tests.support.waiting import wait_until
from workers.api import create_app
from workers.context import AppContext

pytestmark = pytest.mark.integration

LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"
NAMESPACE = "api-agents"
ME = "1001@default"  # the agent key's own agent
OTHER = "1002@default"


@pytest.fixture
def sim() -> Iterator[FsNode]:
    """The lab simulator; the node that reaches it."""
    server = SimulatorServer(LAB)
    host, port = server.start()
    try:
        yield FsNode(name="fs1", host=host, port=port)
    finally:
        server.stop()


def _context(sessions: Any, client: redis.Redis[str], *nodes: FsNode) -> AppContext:
    settings = load_settings(freeswitch_nodes=list(nodes))
    return AppContext(settings, sessions=sessions, redis_client=client, namespace=NAMESPACE)


@pytest.fixture
def context(
    sessions: sessionmaker[Session], redis_client: redis.Redis[str], sim: FsNode
) -> AppContext:
    return _context(sessions, redis_client, sim)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[Role, str]:
    return issue_test_keys(sessions, agent=ME)


def _client(context: AppContext) -> TestClient:
    return TestClient(create_app(context, notify=None, trunks=MemoryTrunks()))


@pytest.fixture
def api(context: AppContext) -> Iterator[TestClient]:
    with _client(context) as client:
        yield client


@contextmanager
def listening(context: AppContext, sessions: sessionmaker[Session]) -> Iterator[None]:
    """The node's listener, writing the agents' live state where the API reads it (it reads
    every agent's status and state when it connects, then follows mod_callcenter's events)."""
    running = node_listeners(
        context.settings, context.redis, sessions, SYSTEM_CLOCK, namespace=NAMESPACE
    )
    try:
        assert wait_until(lambda: all(r.client.connects >= 1 for r in running), 10)
        yield
    finally:
        for listener in running:
            listener.stop()


def _switch(node: FsNode, command: str) -> str:
    """``command``'s reply, on a connection of its own."""
    client = EslClient(
        node.name, node.host, node.port, "ClueCon", Subscription(events=()), lambda e: None
    )
    client.start()
    try:
        assert client.wait_connected(5)
        return client.api(command, 5)
    finally:
        client.close()


def _on_switch(node: FsNode, agent: str) -> list[str] | None:
    """The agent's row of ``callcenter_config agent list`` (None: the switch lacks it)."""
    for line in _switch(node, "callcenter_config agent list").splitlines():
        if line.startswith(f"{agent}|"):
            return line.split("|")
    return None


def _status_on_switch(node: FsNode, agent: str) -> tuple[str, str] | None:
    row = _on_switch(node, agent)
    return None if row is None else (row[5], row[6])  # status, state (transcript m)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _add(api: TestClient, token: str, name: str, queue: str = "sales@default") -> Any:
    body = {"name": name, "contact": f"user/{name.split('@')[0]}", "tiers": [{"queue": queue}]}
    return api.post("/v1/agents", json=body, headers=bearer(token))


def test_an_agent_key_sets_itself_ready_and_the_listener_sees_it(
    api: TestClient,
    tokens: dict[Role, str],
    sim: FsNode,
    context: AppContext,
    sessions: sessionmaker[Session],
) -> None:
    manager, agent = bearer(tokens[Role.MANAGER]), bearer(tokens[Role.AGENT])
    created = _ok(_add(api, tokens[Role.MANAGER], ME), 201)
    assert created["contact"] == "user/1001" and created["in_database"] is True
    assert created["tiers"] == [{"queue": "sales@default", "level": 1, "position": 1}]
    # the listener is not running yet: its live state lacks the agent
    unseen = {"node": "fs1", "status": "not seen by the listener", "state": "-", "since": None}
    assert created["nodes"] == [unseen]
    assert _status_on_switch(sim, ME) == ("Logged Out", "Waiting")
    with listening(context, sessions):
        _listened(api, agent, manager, sim)


def _listened(api: TestClient, agent: dict[str, str], manager: dict[str, str], sim: FsNode) -> None:
    def seen() -> list[Any]:
        return [
            (n["node"], n["status"], n["state"])
            for n in _ok(api.get(f"/v1/agents/{ME}", headers=agent))["nodes"]
        ]

    assert wait_until(lambda: seen() == [("fs1", "Logged Out", "Waiting")], 10), seen()
    ready = _ok(api.post(f"/v1/agents/{ME}/status", json={"status": "ready"}, headers=agent))
    assert ready == {"agent": ME, "status": "Available"}
    assert _status_on_switch(sim, ME) == ("Available", "Waiting")
    assert wait_until(lambda: seen() == [("fs1", "Available", "Waiting")], 10), seen()
    _ok(api.post(f"/v1/agents/{ME}/status", json={"status": "break"}, headers=agent))
    assert _status_on_switch(sim, ME) == ("On Break", "Waiting")
    assert wait_until(lambda: seen() == [("fs1", "On Break", "Waiting")], 10), seen()
    listed = {a["name"]: a for a in _ok(api.get("/v1/agents", headers=manager))}
    [node] = listed[ME]["nodes"]
    assert datetime.fromisoformat(node.pop("since")) > datetime.now(UTC) - timedelta(minutes=1)
    assert node == {"node": "fs1", "status": "On Break", "state": "Waiting"}
    # the lab's own agents (callcenter.conf.xml) are the switch's only
    assert listed["agent1@default"]["in_database"] is False
    assert listed["agent1@default"]["contact"] is None
    _ok(api.post(f"/v1/agents/{ME}/status", json={"status": "logout"}, headers=manager))
    assert _status_on_switch(sim, ME) == ("Logged Out", "Waiting")


def test_an_agent_key_may_not_act_on_another_agent(
    api: TestClient, tokens: dict[Role, str], sim: FsNode
) -> None:
    agent = bearer(tokens[Role.AGENT])
    _ok(_add(api, tokens[Role.MANAGER], OTHER), 201)
    refused = api.post(f"/v1/agents/{OTHER}/status", json={"status": "ready"}, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"this agent key acts as '{ME}', not '{OTHER}'"
    assert _status_on_switch(sim, OTHER) == ("Logged Out", "Waiting")
    assert api.get(f"/v1/agents/{OTHER}", headers=agent).status_code == 403
    assert api.get("/v1/agents", headers=agent).status_code == 403
    assert _add(api, tokens[Role.AGENT], "1003@default").status_code == 403
    assert _on_switch(sim, "1003@default") is None


def test_bad_values_are_named_and_nothing_is_made(
    api: TestClient, tokens: dict[Role, str], sim: FsNode
) -> None:
    manager = bearer(tokens[Role.MANAGER])
    nowhere = _add(api, tokens[Role.MANAGER], ME, queue="nosuch@default")
    assert nowhere.status_code == 422
    assert nowhere.json()["errors"] == [
        {
            "field": "body.tiers",
            "detail": "fs1: no queue nosuch@default on the switch (callcenter_config queue "
            "list); queues come from callcenter.conf.xml (dialer fsconf render)",
        }
    ]
    assert _on_switch(sim, ME) is None
    assert api.get(f"/v1/agents/{ME}", headers=manager).status_code == 404
    bad = api.post(
        "/v1/agents",
        json={"name": "10 01", "contact": "user/1001;x", "tiers": [{"queue": "a b"}]},
        headers=manager,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "body.name",
        "body.contact",
        "body.tiers.0",
    }
    status = api.post(f"/v1/agents/{ME}/status", json={"status": "away"}, headers=manager)
    assert status.status_code == 422
    assert [e["field"] for e in status.json()["errors"]] == ["body.status"]
    _ok(_add(api, tokens[Role.MANAGER], ME), 201)
    again = _add(api, tokens[Role.MANAGER], ME)
    assert again.status_code == 409 and "exists already" in again.json()["detail"]
    unknown = api.post("/v1/agents/1009@default/status", json={"status": "ready"}, headers=manager)
    assert unknown.status_code == 404 and "Agent not found!" in unknown.json()["detail"]


def test_tiers_are_added_and_removed_and_the_agent_deleted(
    api: TestClient, tokens: dict[Role, str], sim: FsNode
) -> None:
    manager = bearer(tokens[Role.MANAGER])
    _ok(_add(api, tokens[Role.MANAGER], ME), 201)
    tier = {"queue": "ringall@default", "level": 2, "position": 3}
    added = _ok(api.post(f"/v1/agents/{ME}/tiers", json=tier, headers=manager), 201)
    assert added["tiers"] == [tier, {"queue": "sales@default", "level": 1, "position": 1}]
    assert f"ringall@default|{ME}|Ready|2|3" in _switch(sim, "callcenter_config tier list")
    twice = api.post(f"/v1/agents/{ME}/tiers", json=tier, headers=manager)
    assert twice.status_code == 409
    _ok(api.delete(f"/v1/agents/{ME}/tiers/ringall@default", headers=manager), 204)
    assert f"ringall@default|{ME}|" not in _switch(sim, "callcenter_config tier list")
    gone = api.delete(f"/v1/agents/{ME}/tiers/ringall@default", headers=manager)
    assert gone.status_code == 404
    bad_queue = api.delete(f"/v1/agents/{ME}/tiers/a%00b", headers=manager)
    assert bad_queue.status_code == 422 and bad_queue.json()["errors"][0]["field"] == "path.queue"
    bad_name = api.get("/v1/agents/a%00b", headers=manager)
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"] == "path.name"
    _ok(api.delete(f"/v1/agents/{ME}", headers=manager), 204)
    assert _on_switch(sim, ME) is None
    assert api.get(f"/v1/agents/{ME}", headers=manager).status_code == 404
    assert api.delete(f"/v1/agents/{ME}", headers=manager).status_code == 404


def test_a_node_that_cannot_be_reached_is_named_and_nothing_changes(
    context: AppContext,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis[str],
    tokens: dict[Role, str],
    sim: FsNode,
) -> None:
    manager = bearer(tokens[Role.MANAGER])
    with _client(context) as one_node:
        _ok(_add(one_node, tokens[Role.MANAGER], ME), 201)
    port = free_port()
    dead = FsNode(name="fs2", host="127.0.0.1", port=port)
    no_switch = f"fs2: no Event Socket at 127.0.0.1:{port} (connection refused)"
    with _client(_context(sessions, redis_client, sim, dead)) as api:
        added = _add(api, tokens[Role.MANAGER], OTHER)
        assert added.status_code == 503 and added.json()["detail"].startswith(no_switch)
        assert _on_switch(sim, OTHER) is None
        assert api.get(f"/v1/agents/{OTHER}", headers=manager).status_code == 404
        ready = api.post(f"/v1/agents/{ME}/status", json={"status": "ready"}, headers=manager)
        assert ready.status_code == 503 and ready.json()["detail"].startswith(no_switch)
        assert _status_on_switch(sim, ME) == ("Logged Out", "Waiting")
        tier = {"queue": "ringall@default"}
        refused = api.post(f"/v1/agents/{ME}/tiers", json=tier, headers=manager)
        assert refused.status_code == 503
        assert f"ringall@default|{ME}|" not in _switch(sim, "callcenter_config tier list")
        assert api.delete(f"/v1/agents/{ME}", headers=manager).status_code == 503
        assert _on_switch(sim, ME) is not None
        kept = _ok(api.get(f"/v1/agents/{ME}", headers=manager))
        assert kept["tiers"] == [{"queue": "sales@default", "level": 1, "position": 1}]


def test_without_redis_the_agents_are_listed_with_their_status_unknown(
    sessions: sessionmaker[Session], tokens: dict[Role, str], sim: FsNode
) -> None:
    gone: redis.Redis[str] = redis.Redis(
        port=free_port(), socket_connect_timeout=0.5, decode_responses=True
    )
    with _client(_context(sessions, gone, sim)) as api:
        _ok(_add(api, tokens[Role.MANAGER], ME), 201)
        listed = _ok(api.get("/v1/agents", headers=bearer(tokens[Role.MANAGER])))
        assert listed == [
            {
                "name": ME,
                "in_database": True,
                "contact": "user/1001",
                "tiers": [{"queue": "sales@default", "level": 1, "position": 1}],
                "nodes": [{"node": "fs1", "status": "?", "state": "?", "since": None}],
            }
        ]
