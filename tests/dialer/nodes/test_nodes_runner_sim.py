"""The tick placing calls on two switch simulators over TCP with different limits (real
Redis and PostgreSQL): from the simulators' own counters, no node refused a call for its sps
or its max_sessions, and the calls went to each node by its headroom; a drained node gets no
new call. The pacer here always asks for more calls than the nodes take, so the nodes' limits
are what bounds the calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt
from dialer.clock import SYSTEM_CLOCK, UUID_IDS
from dialer.config import FsNode, Settings
from dialer.nodes.adapters import ConnectionStatusReader
from dialer.nodes.service import set_switch_limits
from dialer.nodes.wiring import redis_node_store
from dialer.pacing import Decision, Mode, Outcome, Snapshot
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.runner.wiring import esl_switch, tick_deps
from dialer.sim.simulator import SimulatorServer

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "campaign.yaml"
NAMESPACE = "test:nodes"
# (sps, max_sessions) set on each switch with fsctl: the big node has twice the room
LIMITS = {"big": (11, 40), "small": (5, 16)}
TICK_S, RUN_S = 0.25, 4.0


@dataclass
class LaunchPacer:
    """Asks for ``per_tick`` calls on every tick, whatever the snapshot."""

    per_tick: int
    mode: Mode = Mode.PROGRESSIVE

    def decide(self, snapshot: Snapshot) -> Decision:
        return Decision(launch=self.per_tick)

    def observe(self, outcome: Outcome) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Seen:
    """A simulator's own counters: originates, refused ones, peak sessions, peak per second."""

    calls: int
    refused: int
    peak_sessions: int
    peak_sps: int


def seen(server: SimulatorServer) -> Seen:
    sim = server.sim

    def read() -> Seen:
        records = list(sim.records.all())
        admission = sim.switch.admission
        return Seen(
            len(records),
            sum(1 for r in records if r.refused),
            admission.peak,
            admission.sps_peak,
        )

    result: Seen = server.call(read)
    return result


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_calls_spread_by_headroom_and_no_node_over_its_limits(
    sessions: sessionmaker[Session],
    redis_client: redis.Redis[str],
    seed_campaign: Callable[..., int],
) -> None:
    campaign_id = seed_campaign(200, {"cheap_cn": 500})
    with SimulatorServer(SCENARIO) as big, SimulatorServer(SCENARIO) as small:
        servers = {"big": big, "small": small}
        nodes = [
            FsNode(name=n, host=s.sim.host, port=s.sim.port_number) for n, s in servers.items()
        ]
        settings = Settings(freeswitch_nodes=nodes)
        switch = esl_switch(nodes, connect_wait_s=5)
        try:
            assert switch.nodes() == ["big", "small"]
            reader = ConnectionStatusReader(switch.connections)
            for name, (sps, most) in LIMITS.items():
                assert set_switch_limits(reader, name, sps=sps, max_sessions=most) == (sps, most)
            deps = tick_deps(
                settings, redis_client, sessions, switch, SYSTEM_CLOCK, UUID_IDS,
                namespace=NAMESPACE,
            )  # fmt: skip
            lease = deps.leases.acquire(campaign_id, "test", 10_000)
            assert lease is not None
            ticker = CampaignTicker(lease, LaunchPacer(per_tick=6), deps)
            run_slice(ticker.tick, SYSTEM_CLOCK, TICK_S, RUN_S)
            time.sleep(0.5)  # the last originates (bgapi) reach their switch
            first = {n: seen(s) for n, s in servers.items()}

            redis_node_store(redis_client, NAMESPACE).set_draining("big", True)
            run_slice(ticker.tick, SYSTEM_CLOCK, TICK_S, 1.5)
            time.sleep(0.5)
            drained = {n: seen(s) for n, s in servers.items()}
        finally:
            switch.close()

    for name, (sps, most) in LIMITS.items():
        assert drained[name].refused == 0, drained
        assert drained[name].peak_sps <= sps - 1, drained
        assert drained[name].peak_sessions <= most, drained
    # the big node has twice the room and more than twice the rate: about twice the calls
    assert first["small"].calls >= 5, first
    assert first["big"].calls >= 1.5 * first["small"].calls, first
    assert ticker.stats.decided > 2 * ticker.stats.launched  # the nodes bounded the calls
    assert drained["big"].calls == first["big"].calls  # drained: no new call
    with sessions() as session:
        rows = session.execute(
            select(CallAttempt.node, func.count()).group_by(CallAttempt.node)
        ).all()
    per_node = {node: count for node, count in rows}
    assert per_node == {"big": drained["big"].calls, "small": drained["small"].calls}
