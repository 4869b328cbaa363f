"""Over TCP against the switch simulator: a listener killed and restarted while 200 calls are
up leaves no call in flight once they have ended."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaigns.domain import AttemptOutcome
from dialer.config import FsNode
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import RedisLiveState
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.ports import LiveState
from dialer.listener.wiring import start_listener
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.support.waiting import wait_until

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
CALLS = 200


@pytest.mark.integration
@pytest.mark.parametrize(
    ("speed", "lost"),
    [(2.0, CALLS), (1.5, 0)],
    ids=["calls-end-while-down", "calls-end-after-restart"],
)
@pytest.mark.parametrize("store", ["memory", "redis"])
def test_listener_restart_with_200_calls_up_leaves_nothing_in_flight(
    speed: float, lost: int, store: str, request: pytest.FixtureRequest
) -> None:
    """First case: the calls end while no listener runs (reconciliation ends them as LOST);
    second: they end after the restart (their own events end them). The restarted listener
    finds the calls in the live state the first one left (in memory, or in Redis)."""
    scenario = replace(load_scenario(LAB), speed=speed)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        sim_sw = sim.switch
        server.call(lambda: setattr(sim_sw.admission, "sps_limit", 10_000))
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        live: LiveState = MemoryLiveState()
        if store == "redis":
            live = RedisLiveState(request.getfixturevalue("redis_client"), prefix="test:restart")
        attempts, trunks = MemoryAttempts(), MemoryTrunks()
        first = start_listener(node, live, attempts, trunks, reconcile_every_s=3600)
        assert first.client.wait_connected(5)
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        assert dialer.wait_connected(5)
        uuids = [str(uuid.uuid4()) for _ in range(CALLS)]
        jobs = []
        for i, call_uuid in enumerate(uuids):
            spec = OriginateSpec(
                call_uuid,
                "sofia/gateway/carrier_a/6138000000",
                "20220601",
                "cc_sales",
                "campaign",
                campaign_id=1,
                lead_id=i + 1,
                attempt_id=i + 1,
            )
            trunks.held[call_uuid] = "carrier_a"
            jobs.append(dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC))))
        assert all(j.result(timeout=30).ok for j in jobs)
        assert wait_until(lambda: len(live.calls("fs1")) == CALLS, 10)
        first.stop()  # killed while every call is up
        if lost:
            assert wait_until(lambda: server.call(lambda: sim_sw.live_sessions()) == 0, 30)
        # no CDR store here: calls it lost are settled (unknown) without waiting for one
        second = start_listener(node, live, attempts, trunks, reconcile_every_s=0.5, cdr_wait_s=0)
        try:
            assert second.client.wait_connected(5)
            assert wait_until(lambda: server.call(lambda: sim_sw.live_sessions()) == 0, 30)
            assert wait_until(lambda: live.calls("fs1") == {}, 10), live.calls("fs1").keys()
            ended = {end.call_uuid for _, end in attempts.ended}
            assert ended == set(uuids)
            assert len(attempts.ended) == CALLS
            assert sum(end.hangup_cause == "LOST" for _, end in attempts.ended) == lost
            # without a CDR nothing is guessed: connected if seen bridged, else unknown
            assert all(
                end.unsettled or end.outcome is AttemptOutcome.CONNECTED
                for _, end in attempts.ended
                if end.hangup_cause == "LOST"
            )
            assert trunks.held == {}
            assert second.listener.book.calls == {}
        finally:
            second.stop()
            dialer.close()
