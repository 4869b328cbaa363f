"""The listeners of two simulated nodes at once: Redis live state, SQL records."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Campaign, Lead
from dialer.clock import SYSTEM_CLOCK
from dialer.config import FsNode, Settings
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import RedisLiveState
from dialer.listener.wiring import node_listeners
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"


def seed_leads(sessions: sessionmaker[Session], count: int) -> tuple[int, list[int]]:
    with sessions() as s, s.begin():
        campaign = Campaign(name="multi", queue_name="sales@default")
        s.add(campaign)
        s.flush()
        leads = [
            Lead(
                campaign_id=campaign.id,
                phone_e164=f"+86138000{i:05d}",
                phone_raw=f"138000{i:05d}",
                country="CN",
                number_type="mobile",
                status=LeadStatus.DIALING,
            )
            for i in range(count)
        ]
        s.add_all(leads)
        s.flush()
        return campaign.id, [lead.id for lead in leads]


@pytest.mark.integration
def test_two_nodes_at_once(sessions: sessionmaker[Session], redis_client: redis.Redis[str]) -> None:
    scenario = replace(load_scenario(LAB), speed=20.0)
    campaign_id, lead_ids = seed_leads(sessions, 6)
    with SimulatorServer(scenario) as sim1, SimulatorServer(scenario) as sim2:
        nodes = [
            FsNode(name=f"fs{i}", host=s.sim.host, port=s.sim.port_number)
            for i, s in ((1, sim1), (2, sim2))
        ]
        settings = Settings(freeswitch_nodes=nodes)
        notified: list[int] = []
        running = node_listeners(
            settings, redis_client, sessions, SYSTEM_CLOCK, notify=notified.append
        )
        dialers = [
            EslClient(n.name, n.host, n.port, "ClueCon", Subscription(events=()), lambda e: None)
            for n in nodes
        ]
        try:
            for d in dialers:
                d.start()
                assert d.wait_connected(5)
            assert all(r.client.wait_connected(5) for r in running)
            uuids: dict[str, str] = {}
            for i, lead_id in enumerate(lead_ids):
                call_uuid = str(uuid.uuid4())
                node = dialers[i % 2]
                uuids[call_uuid] = node.node
                spec = OriginateSpec(
                    call_uuid,
                    "sofia/gateway/carrier_a/6138000000",
                    "20220601",
                    "cc_sales",
                    "campaign",
                    campaign_id,
                    lead_id,
                    i + 1,
                )
                assert (
                    node.bgapi("originate " + build_originate(spec, datetime.now(UTC)))
                    .result(timeout=10)
                    .ok
                )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with sessions() as s:
                    done = s.scalars(
                        select(CallAttempt).where(CallAttempt.outcome.is_not(None))
                    ).all()
                if len(done) == len(lead_ids):
                    break
                time.sleep(0.1)
            assert {a.call_uuid: a.node for a in done} == uuids
            assert sorted(notified) == sorted(a.id for a in done)  # each handed to post-call
            live = RedisLiveState(redis_client)
            assert live.calls("fs1") == {} and live.calls("fs2") == {}
            assert set(live.agents("fs1")) == {"agent1@default", "agent2@default"}
            with sessions() as s:
                leads = s.scalars(select(Lead)).all()
                assert all(lead.status is not LeadStatus.DIALING for lead in leads)
                assert all(lead.attempts == 1 for lead in leads)
        finally:
            for r in running:
                r.stop()
            for d in dialers:
                d.close()
