"""Each node's listener makes the node hold the database's agents after every (re)connect:
both nodes at start-up, a restarted one again; a failing setup never stops the listener."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentRecord, Tier
from dialer.clock import SYSTEM_CLOCK
from dialer.config import FsNode, Settings
from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import EslConnection, Subscription
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.wiring import node_listeners, start_listener
from dialer.sim.simulator import SimulatorServer
from tests.support.waiting import wait_until

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
AGENT = AgentRecord("1001@default", "user/1001", (Tier("sales@default", 1, 2),))


def tiers_of(host: str, port: int) -> list[str]:
    client = EslClient("probe", host, port, "ClueCon", Subscription(events=()), lambda e: None)
    client.start()
    try:
        assert client.wait_connected(5)
        return client.api("callcenter_config tier list", 5).splitlines()
    finally:
        client.close()


@pytest.mark.integration
def test_both_nodes_then_a_restarted_one_get_the_database_agents(
    sessions: sessionmaker[Session], redis_client: redis.Redis[str]
) -> None:
    SqlAgentStore(sessions).put(AGENT)
    want = "sales@default|1001@default|Ready|1|2"
    sim1, sim2 = SimulatorServer(LAB), SimulatorServer(LAB)
    sim1.start()
    sim2.start()
    addresses = [(s.sim.host, s.sim.port_number) for s in (sim1, sim2)]
    nodes = [FsNode(name=f"fs{i}", host=h, port=p) for i, (h, p) in enumerate(addresses, 1)]
    running = node_listeners(Settings(freeswitch_nodes=nodes), redis_client, sessions, SYSTEM_CLOCK)
    try:
        for host, port in addresses:
            assert wait_until(lambda h=host, p=port: want in tiers_of(h, p), 30)
        sim2.stop()
        sim2 = SimulatorServer(LAB)
        sim2.start(*addresses[1])
        assert wait_until(lambda: want in tiers_of(*addresses[1]), 30)
        assert wait_until(lambda: running[1].listener.stats.reconciles >= 2, 30)
        # the listener's reconcile runs after the sync, so it reads the agent with its queue
        assert running[1].listener.agents["1001@default"].queues == ("sales@default",)
    finally:
        for r in running:
            r.stop()
        sim1.stop()
        sim2.stop()


@pytest.mark.integration
def test_a_failing_setup_is_logged_and_the_listener_goes_on() -> None:
    def broken(conn: EslConnection) -> None:
        raise RuntimeError("no database")

    with SimulatorServer(LAB) as sim:
        node = FsNode(name="fs1", host=sim.sim.host, port=sim.sim.port_number)
        running = start_listener(
            node, MemoryLiveState(), MemoryAttempts(), MemoryTrunks(), setup=broken
        )
        try:
            assert wait_until(lambda: running.listener.stats.reconciles >= 1, 30)
        finally:
            running.stop()
