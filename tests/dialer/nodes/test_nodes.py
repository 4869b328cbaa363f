"""A node's gateways and registrations: transcript x's replies read, and served to managers
at ``/v1/nodes/{node}/gateways`` and ``.../extensions``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from dialer.nodes.fakes import ScriptedNodeApi
from dialer.nodes.http import NodesApi, nodes_router
from dialer.nodes.switch_state import gateway_state, parse_registrations
from dialer.routing.model import Trunk
from dialer.routing.service import add_trunk
from dialer.sim.api_show import show_reply
from dialer.sim.simulator import SimulatorServer
from tests.support.api import bearer, issue_test_keys
from tests.support.x_replies import x_reply
from workers.api import create_app
from workers.context import AppContext


def test_the_gateway_status_freeswitch_prints_is_read() -> None:
    state = gateway_state("carrier_a", x_reply("sofia status gateway carrier_a"))
    assert (state.known, state.status, state.state) == (True, "UP", "NOREG")
    assert (state.ping_time_ms, state.calls_out, state.failed_calls_out) == (0.0, 14, 9)
    assert state.uptime_s == 250
    unknown = gateway_state("nosuch_gw", x_reply("sofia status gateway nosuch_gw"))
    assert (unknown.known, unknown.status) == (False, "")
    with pytest.raises(ValueError):
        gateway_state("x", "-ERR no reply\n")


def test_a_show_table_is_read_with_its_own_columns() -> None:
    assert parse_registrations('{"row_count": 0}\n').count == 0
    # the JSON shape of `show ... as json` (transcript f, show channels), columns as given
    table = parse_registrations('{"row_count":1,"rows":[{"a":"1","b":"x"}]}')
    assert (table.count, table.rows) == (1, ({"a": "1", "b": "x"},))
    with pytest.raises(ValueError):
        parse_registrations("[]")


def test_the_simulator_lists_no_registrations_as_freeswitch_does() -> None:
    with SimulatorServer({"dialplan": []}) as server:
        plain = server.call(lambda: show_reply(server.sim.switch, "registrations"))
        as_json = server.call(lambda: show_reply(server.sim.switch, "registrations as json"))
    assert plain == x_reply("show registrations")
    assert parse_registrations(as_json).count == 0


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        add_trunk(session, Trunk(name="carrier_a", proxy_host="127.0.0.1", proxy_port=5090))
        add_trunk(session, Trunk(name="nosuch_gw", proxy_host="192.0.2.1"))
        add_trunk(session, Trunk(name="other", proxy_host="192.0.2.2", fs_nodes=("fs2",)))
    replies = {
        "sofia status gateway carrier_a": x_reply("sofia status gateway carrier_a"),
        "sofia status gateway nosuch_gw": x_reply("sofia status gateway nosuch_gw"),
        "show registrations as json": '{"row_count": 0}\n',
    }
    fake = ScriptedNodeApi({"fs1": replies, "fs3": {}}, down={"fs2"})
    router = nodes_router(KeyAuth(SqlKeyStore(sessions)), NodesApi(lambda: fake, sessions))
    app = create_app(AppContext(load_settings(), sessions=sessions), notify=None,
                     trunks=MemoryTrunks(), v1_routers=[router])  # fmt: skip
    with TestClient(app) as test_client:
        test_client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        yield test_client


def test_a_nodes_gateways_and_extensions_over_http(client: TestClient) -> None:
    reply = client.get("/v1/nodes/fs1/gateways")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["node"] == "fs1"
    by_name = {g["name"]: g for g in body["gateways"]}
    assert sorted(by_name) == ["carrier_a", "nosuch_gw"]  # `other` is fs2's only
    assert (by_name["carrier_a"]["status"], by_name["carrier_a"]["calls_out"]) == ("UP", 14)
    assert by_name["nosuch_gw"]["known"] is False
    extensions = client.get("/v1/nodes/fs1/extensions").json()
    assert extensions == {"node": "fs1", "count": 0, "registrations": []}


def test_unknown_unreachable_and_garbled_nodes(client: TestClient) -> None:
    assert client.get("/v1/nodes/fs9/gateways").status_code == 404
    down = client.get("/v1/nodes/fs2/extensions")
    assert down.status_code == 503 and "fs2" in down.json()["detail"]
    assert client.get("/v1/nodes/fs3/extensions").status_code == 502
