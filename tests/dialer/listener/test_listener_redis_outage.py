"""Over TCP against the switch simulator: the listener's Redis is killed while calls are up and
started again (empty) after they ended. The listener's worker thread lives through it, retries
the event it was handling, and every call gets its outcome once Redis is back: no lead is left
``dialing``. Its heartbeat stays fresh meanwhile, so ``dialer health listener`` passes."""

from __future__ import annotations

import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.config import FsNode
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.wiring import live_state, start_listener
from dialer.liveness.adapters import FileHeartbeats
from dialer.liveness.service import health_report, pid_alive
from dialer.routing.wiring import redis_trunk_state
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import SeedCampaign
from tests.dialer.listener.test_listener_sim import LAB
from tests.support.redis_server import own_redis
from tests.support.waiting import wait_until

CALLS = 30
RECOVERY_BOUND_S = 20.0


def dialing(sessions: sessionmaker[Session], campaign_id: int) -> int:
    with sessions() as s:
        query = select(func.count()).where(
            Lead.campaign_id == campaign_id, Lead.status == LeadStatus.DIALING
        )
        return int(s.scalar(query) or 0)


def settled(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        query = select(func.count()).where(CallAttempt.outcome.is_not(None))
        return int(s.scalar(query) or 0)


@pytest.mark.integration
def test_calls_ending_while_redis_is_down_get_their_outcomes_after_it_returns(
    sessions: sessionmaker[Session], seed_campaign: SeedCampaign, tmp_path: Path
) -> None:
    campaign_id = seed_campaign(CALLS, {"carrier_a": 100})
    with sessions() as s, s.begin():
        s.execute(update(Lead).values(status=LeadStatus.DIALING))
        lead_ids = list(s.scalars(select(Lead.id).order_by(Lead.id)))
    beats = FileHeartbeats(tmp_path / "health")
    with own_redis(tmp_path) as server, SimulatorServer(load_scenario(LAB)) as sim_server:
        sim = sim_server.sim
        sim_sw = sim.switch
        sim_server.call(lambda: setattr(sim_sw.admission, "sps_limit", 10_000))
        client = server.client()
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        shared = redis_trunk_state(client, "outage")
        running = start_listener(
            node, live_state(client, "outage"), SqlAttemptSink(sessions), shared.reservations,
            health=shared.health, reconcile_every_s=3600, heartbeats=beats,
        )  # fmt: skip
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        try:
            assert running.client.wait_connected(5) and dialer.wait_connected(5)
            jobs = []
            for lead_id in lead_ids:
                spec = OriginateSpec(
                    str(uuid.uuid4()), "sofia/gateway/carrier_a/6138000000", "20220601",
                    "cc_sales", "campaign", campaign_id=campaign_id, lead_id=lead_id,
                    attempt_id=lead_id,
                )  # fmt: skip
                jobs.append(dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC))))
            assert all(j.result(timeout=30).ok for j in jobs)
            assert wait_until(lambda: len(live_state(client, "outage").calls("fs1")) == CALLS, 10)

            server.kill()  # every call is up; each of their ends now meets a dead Redis
            assert wait_until(lambda: sim_server.call(lambda: sim_sw.live_sessions()) == 0, 30)
            time.sleep(1.0)  # the listener keeps failing on the first end for a while
            assert running.worker.is_alive()
            assert settled(sessions) == 0
            assert health_report(beats, ("listener",), time.time(), socket.gethostname(),
                                 pid_alive) == []  # fmt: skip

            server.start()  # empty, as after a restart without persistence
            restarted = time.monotonic()
            assert wait_until(lambda: settled(sessions) == CALLS, RECOVERY_BOUND_S), (
                f"{settled(sessions)} of {CALLS} settled"
            )
            recovery_s = time.monotonic() - restarted
            print(f"listener: all {CALLS} outcomes {recovery_s:.2f} s after Redis restarted")
            assert dialing(sessions, campaign_id) == 0
            assert running.worker.is_alive() and running.broken() is None
            assert running.listener.stats.retries > 0
            assert wait_until(lambda: live_state(client, "outage").calls("fs1") == {}, 5)
        finally:
            running.stop()
            dialer.close()
