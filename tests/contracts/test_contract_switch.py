"""The `Originator` contract (`dialer.runner.ports`): `MemorySwitch`, and `EslSwitch` over two
`EslClient` connections (nodes ``fs2`` and ``fs1``) to the switch simulator over TCP. Which
nodes are offered, what an originate's answer means."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import EslTimeout, Subscription
from dialer.runner.adapters import EslSwitch
from dialer.runner.fakes import MemorySwitch
from dialer.runner.ports import Originator
from dialer.sim.simulator import SimulatorServer
from tests.conftest import Backend
from tests.support.esl import EventLog, originate_args

PORT = "switch"
LAB = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "lab.yaml"
NODES = ("fs2", "fs1")  # not in name order: the switch offers them sorted


class Harness(Protocol):
    switch: Originator

    def take_down(self, node: str) -> None:
        """The node's connection is lost."""
        ...

    def placed(self, call_uuid: str) -> bool:
        """Whether the switch started the call (waits a while for it)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemorySwitch(node_names=list(NODES))
        self.switch: Originator = self.memory

    def take_down(self, node: str) -> None:
        self.memory.down.add(node)

    def placed(self, call_uuid: str) -> bool:
        return any(f"origination_uuid={call_uuid}" in args for _, args in self.memory.sent)


class SimHarness:
    def __init__(self, clients: dict[str, EslClient], created: EventLog) -> None:
        self.clients = clients
        self.created = created
        self.switch: Originator = EslSwitch(clients, job_timeout_s=10)

    def take_down(self, node: str) -> None:
        self.clients[node].close()

    def placed(self, call_uuid: str) -> bool:
        try:
            self.created.wait_for(lambda e: e.uuid == call_uuid, timeout_s=10)
        except EslTimeout:
            return False
        return True


@pytest.fixture
def h(backend: Backend) -> Iterator[Harness]:
    if backend.is_fake:
        yield MemoryHarness()
        return
    with SimulatorServer(LAB) as server:
        created = EventLog()
        watcher = connect(server, "watch", Subscription(events=("CHANNEL_CREATE",)), created)
        clients = {node: connect(server, node, Subscription(events=())) for node in NODES}
        try:
            assert all(c.wait_connected(5) for c in [watcher, *clients.values()])
            yield SimHarness(clients, created)
        finally:
            for client in [watcher, *clients.values()]:
                client.close()


def connect(
    server: SimulatorServer, node: str, events: Subscription, log: EventLog | None = None
) -> EslClient:
    sim = server.sim
    handler = log if log is not None else (lambda event: None)
    return EslClient(node, sim.host, sim.port_number, "ClueCon", events, handler).start()


def test_connected_nodes_are_offered_in_name_order(h: Harness) -> None:
    assert h.switch.nodes() == ["fs1", "fs2"]
    h.take_down("fs1")
    assert h.switch.nodes() == ["fs2"]


def test_an_originate_on_a_connected_node_leaves_and_places_the_call(h: Harness) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert h.switch.originate("fs1", originate_args(first))
    assert h.switch.originate("fs2", originate_args(second))
    assert h.placed(first) and h.placed(second)


def test_an_originate_that_fails_later_has_still_left(h: Harness) -> None:
    # the gateway is down: the job fails on the switch, which is the listener's to settle
    assert h.switch.originate("fs1", originate_args(str(uuid.uuid4()), "carrier_down"))


def test_a_node_lost_after_it_was_offered_refuses_at_once(h: Harness) -> None:
    offered = h.switch.nodes()
    assert "fs2" in offered
    h.take_down("fs2")
    lost = str(uuid.uuid4())
    assert not h.switch.originate("fs2", originate_args(lost))
    assert h.switch.originate("fs1", originate_args(str(uuid.uuid4())))


def test_an_unknown_node_is_an_error(h: Harness) -> None:
    with pytest.raises(KeyError):
        h.switch.originate("fs9", originate_args(str(uuid.uuid4())))
