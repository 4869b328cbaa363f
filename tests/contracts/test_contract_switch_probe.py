"""The `SwitchProbe` contract (`dialer.runner.ports`): `MemorySwitchProbe`, and
`EslSwitchProbe` (as `dialer.runner.wiring.esl_switch_probe` builds it) asking the switch
simulator over TCP (node ``fs1``, the lab of the transcripts) and a port where nothing listens
(node ``fs2``). What each node reports of a campaign's queue, dialplan, gateways and tiers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.config import FsNode
from dialer.runner.fakes import MemoryNode, MemorySwitchProbe
from dialer.runner.ports import ProbeRequest, SwitchProbe
from dialer.runner.wiring import esl_switch_probe
from dialer.sim.simulator import SimulatorServer
from tests.conftest import Backend

PORT = "switch_probe"
LAB = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "lab.yaml"
AGENTS = ("agent1@default", "agent2@default")


def lab_node() -> MemoryNode:
    """The lab as the fake holds it (scenarios/sim/lab.yaml)."""
    queues = ("sales", "sales2s", "noagent", "noagent0", "ringall")
    return MemoryNode(
        queues={f"{q}@default" for q in queues},
        dialplan={"campaign": {f"cc_{q}": (f"{q}@default",) for q in queues}},
        gateways={"carrier_a": "UP", "carrier_b": "UP", "carrier_down_ping": "DOWN"},
        tiers={f"{q}@default": list(AGENTS) for q in queues},
        agent_status=dict.fromkeys(AGENTS, "Available"),
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def probe(backend: Backend) -> Iterator[SwitchProbe]:
    if backend.is_fake:
        yield MemorySwitchProbe({"fs1": lab_node(), "fs2": MemoryNode(down=True)})
        return
    with SimulatorServer(LAB) as server:
        sim = server.sim
        nodes = [
            FsNode(name="fs1", host=sim.host, port=sim.port_number),
            FsNode(name="fs2", host="127.0.0.1", port=closed_port()),
        ]
        yield esl_switch_probe(nodes, connect_wait_s=5.0)


def test_a_loaded_campaign_is_reported_as_loaded(probe: SwitchProbe) -> None:
    request = ProbeRequest(
        "sales@default", "campaign", ("carrier_a", "carrier_down_ping", "nosuch")
    )
    fs1, fs2 = probe.observe(request)
    assert (fs1.node, fs2.node) == ("fs1", "fs2")
    assert fs1.unreachable is None
    assert "sales@default" in fs1.queues and "nosuch@default" not in fs1.queues
    assert fs1.context_loaded and fs1.extensions["cc_sales"] == ("sales@default",)
    assert fs1.gateways == {"carrier_a": "UP", "carrier_down_ping": "DOWN", "nosuch": None}
    assert sorted((a.name, a.status) for a in fs1.tiered_agents) == [
        (name, "Available") for name in AGENTS
    ]
    assert fs2.unreachable and not fs2.queues and not fs2.context_loaded


def test_what_is_not_loaded_is_reported_missing(probe: SwitchProbe) -> None:
    fs1, _ = probe.observe(ProbeRequest("nosuch@default", "nosuch"))
    assert fs1.unreachable is None
    assert "nosuch@default" not in fs1.queues
    assert not fs1.context_loaded and dict(fs1.extensions) == {}
    assert fs1.tiered_agents == () and dict(fs1.gateways) == {}
