"""Two trunks, the cheaper one's gateway down (simulator over TCP, Redis, PostgreSQL, the
listener feeding trunk health): the down trunk is suspended after its first failures, the
other carries every lead, and no lead spends an attempt on the down trunk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.calls.trunk import carrier_failed
from dialer.clock import SYSTEM_CLOCK, UUID_IDS
from dialer.config import FsNode, Settings
from dialer.listener.wiring import live_state, node_listeners
from dialer.pacing import Mode, make_pacer
from dialer.routing.health import HealthPolicy
from dialer.routing.wiring import redis_trunk_state
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.runner.wiring import esl_switch, tick_deps
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "campaign.yaml"
LEADS = 20
# "broken" is DOWN in the scenario (GATEWAY_DOWN, no channel) and the cheaper trunk.
RATES = {"broken": "0.01", "cheap_cn": "0.03"}
# Few lines on the down trunk: the pacer counts a call refused before any channel existed as
# ringing for 10 s (`snapshot.InFlight`), which would otherwise stall the first seconds.
LINES = {"broken": 3, "cheap_cn": 10}
NAMESPACE = "test:fo"  # the Redis keys of the switch-side state


def settled(sessions: sessionmaker[Session]) -> bool:
    now = datetime.now(UTC)
    with sessions() as session:
        for status, next_at, attempts in session.execute(
            select(Lead.status, Lead.next_attempt_at, Lead.attempts)
        ):
            if status is LeadStatus.DIALING or attempts == 0:
                return False
            if status is LeadStatus.PENDING and next_at <= now:
                return False
    return True


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_down_trunk_is_failed_over_without_spending_attempts(
    sessions: sessionmaker[Session],
    redis_client: redis.Redis[str],
    seed_campaign: Callable[..., int],
) -> None:
    campaign_id = seed_campaign(LEADS, LINES, rates=RATES)
    scenario = replace(load_scenario(SCENARIO), speed=50.0)
    policy = HealthPolicy(failure_threshold=3, cooldown_s=600)
    trunks = redis_trunk_state(redis_client, NAMESPACE, policy)
    health = trunks.health
    assert health is not None
    with SimulatorServer(scenario) as server:
        sim = server.sim
        server.call(lambda: setattr(sim.switch.admission, "sps_limit", 10_000))
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        settings = Settings(freeswitch_nodes=[node])
        [listener] = node_listeners(
            settings, redis_client, sessions, SYSTEM_CLOCK,
            namespace=NAMESPACE, trunks=trunks, reconcile_every_s=5,
        )  # fmt: skip
        switch = esl_switch([node], connect_wait_s=5)
        try:
            assert listener.client.wait_connected(5) and switch.nodes() == ["fs1"]
            live = live_state(redis_client, NAMESPACE)
            deadline = time.monotonic() + 10
            while not live.agents("fs1") and time.monotonic() < deadline:
                time.sleep(0.05)
            deps = tick_deps(
                settings, redis_client, sessions, switch, SYSTEM_CLOCK, UUID_IDS,
                namespace=NAMESPACE, trunks=trunks,
            )  # fmt: skip
            lease = deps.leases.acquire(campaign_id, "test", 10_000)
            assert lease is not None
            ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)

            def tick() -> bool:
                return ticker.tick() and not settled(sessions)

            report = run_slice(tick, SYSTEM_CLOCK, 0.1, 18.0)
            with sessions() as session:
                states = session.execute(select(Lead.status, Lead.attempts)).all()
            assert report.stopped_early, (ticker.stats, report, states)
        finally:
            switch.close()
            listener.stop()

    assert health.snapshot(["broken", "cheap_cn"])["broken"].consecutive_failures >= 3
    with sessions() as session:
        rows = session.scalars(select(CallAttempt)).all()
        leads = session.scalars(select(Lead)).all()
    broken = [r for r in rows if r.trunk == "broken"]
    carried = [r for r in rows if r.trunk == "cheap_cn" and r.outcome != "not_dialled"]
    causes = {(r.outcome, r.hangup_cause) for r in broken}
    assert broken and causes == {("failed", "GATEWAY_DOWN")}, causes
    assert {r.lead_id for r in carried} == {lead.id for lead in leads}  # every lead carried
    # carrier failures (the down trunk's, and the scenario's 503s) were not counted
    counted = [r for r in carried if not carrier_failed(r.outcome, r.hangup_cause)]
    per_lead = {lead.id: sum(1 for r in counted if r.lead_id == lead.id) for lead in leads}
    assert {lead.id: lead.attempts for lead in leads} == per_lead
