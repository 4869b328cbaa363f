"""The `NodeApi` contract (`dialer.nodes.ports`): `ScriptedNodeApi` scripted with transcript
x's replies, and `EslNodeApi` asking the switch simulator over TCP (node ``fs1``, the lab) and
a port where nothing listens (``fs2``); what `dialer.nodes.service` reads from both."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.config import FsNode
from dialer.esl.ports import EslError
from dialer.nodes.adapters import EslNodeApi
from dialer.nodes.fakes import ScriptedNodeApi
from dialer.nodes.ports import NodeApi
from dialer.nodes.switch_state import gateways, registrations
from dialer.sim.simulator import SimulatorServer
from tests.conftest import Backend
from tests.support.x_replies import x_reply

PORT = "node_api"
LAB = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "lab.yaml"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node_api(backend: Backend) -> Iterator[NodeApi]:
    if backend.is_fake:
        replies = {
            "sofia status gateway carrier_a": x_reply("sofia status gateway carrier_a"),
            "sofia status gateway nosuch_gw": x_reply("sofia status gateway nosuch_gw"),
            "show registrations as json": '{"row_count": 0}\n',
        }
        yield ScriptedNodeApi({"fs1": replies}, down={"fs2"})
        return
    with SimulatorServer(LAB) as server:
        sim = server.sim
        nodes = [
            FsNode(name="fs1", host=sim.host, port=sim.port_number),
            FsNode(name="fs2", host="127.0.0.1", port=closed_port()),
        ]
        yield EslNodeApi("own", nodes)


def test_gateways_and_registrations_of_a_node(node_api: NodeApi) -> None:
    assert node_api.names()[:1] == ["fs1"] and "fs2" in node_api.names()
    known, unknown = gateways(node_api, "fs1", ["carrier_a", "nosuch_gw"])
    assert (known.known, known.status, known.state) == (True, "UP", "NOREG")
    assert known.calls_out is not None and known.uptime_s is not None
    assert (unknown.known, unknown.status) == (False, "")
    found = registrations(node_api, "fs1")
    assert (found.count, found.rows) == (0, ())


def test_a_node_that_is_not_there_raises(node_api: NodeApi) -> None:
    with pytest.raises(EslError):
        node_api.api("fs2", "show registrations as json")
    with pytest.raises(KeyError):
        node_api.api("fs9", "show registrations as json")
