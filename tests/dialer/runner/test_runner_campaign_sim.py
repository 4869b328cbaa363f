"""A small campaign paced by the tick loop against the switch simulator over TCP, with the
listener, real Redis and PostgreSQL: every lead ends final or scheduled for retry, no lead is
ever dialled twice at once and no trunk exceeds its concurrency (the simulator's records)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, CampaignStatus, Lead, LeadStatus
from campaigns.rules import CallingWindow
from campaigns.service import create_campaign, parse_spec
from dialer.config import FsNode
from dialer.db.base import transaction
from dialer.esl.client import EslClient
from dialer.esl.seam import Subscription
from dialer.listener.adapters import RedisLiveState, SqlAttemptSink
from dialer.pacing import Mode, make_pacer
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateEntry
from dialer.routing.redis_reservation import RedisReservations
from dialer.routing.store import add_trunk, import_rates, load_routing_table
from dialer.runner.adapters import EslSwitch, LiveStateView, SqlCampaignStore
from dialer.runner.lease import RedisLeaseStore
from dialer.runner.tick import CampaignTicker, TickDeps
from dialer.runner.ticker import run_slice
from dialer.sim.records import CallRecord
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from workers.listener import start_node

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "campaign.yaml"
RUNNER_REDIS_URL = os.environ.get("DIALER_TEST_RUNNER_REDIS_URL", "redis://127.0.0.1:6379/14")
LEADS = 100
LIMITS = {"cheap_cn": 10, "premium_cn": 5}
SPEED = 50.0


@pytest.fixture
def runner_redis() -> Iterator[redis.Redis[str]]:
    client: redis.Redis[str] = redis.Redis.from_url(RUNNER_REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {RUNNER_REDIS_URL} is not reachable ({exc})")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def seed(sessions: sessionmaker[Session]) -> int:
    always = CallingWindow.always_open()
    with transaction(sessions) as session:
        campaign = create_campaign(
            session,
            parse_spec(name="campaign", queue_name="campaign@default", calling_window=always),
        )
        campaign.status = CampaignStatus.RUNNING
        for i in range(LEADS):
            session.add(
                Lead(
                    campaign_id=campaign.id,
                    phone_e164=f"+86138{i:08d}",
                    phone_raw=f"138{i:08d}",
                    country="CN",
                    time_zones="Asia/Shanghai",
                    number_type="mobile",
                )
            )
        for name, limit in LIMITS.items():
            add_trunk(session, Trunk(name=name, proxy_host="10.0.0.10", max_concurrency=limit))
            import_rates(session, name, [RateEntry("86", Decimal("0.03"))])
        return campaign.id


def settled(sessions: sessionmaker[Session], now: datetime) -> bool:
    with sessions() as session:
        for status, next_at in session.execute(select(Lead.status, Lead.next_attempt_at)):
            if status is LeadStatus.DIALING:
                return False
            if status is LeadStatus.PENDING and next_at <= now:
                return False
    return True


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    depth = best = 0
    for _, step in edges:
        depth += step
        best = max(best, depth)
    return best


def spans(records: list[CallRecord]) -> list[tuple[CallRecord, float, float]]:
    return [(r, r.created_s, r.hangup_s) for r in records if not r.refused and r.hangup_s]


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_campaign_runs_to_the_end_within_limits(
    sessions: sessionmaker[Session], runner_redis: redis.Redis[str]
) -> None:
    campaign_id = seed(sessions)
    scenario = replace(load_scenario(SCENARIO), speed=SPEED)
    with SimulatorServer(scenario) as server:
        sim = server.sim
        server.call(lambda: setattr(sim.switch.counters, "sps_limit", 10_000))
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        live = RedisLiveState(runner_redis, prefix="test:runner:live")
        reservations = RedisReservations(runner_redis, prefix="test:runner:cap")
        listener = start_node(
            node, live, SqlAttemptSink(sessions), reservations, reconcile_every_s=5
        )
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        try:
            assert listener.client.wait_connected(5) and dialer.wait_connected(5)
            deadline = time.monotonic() + 15
            while not live.agents("fs1") and time.monotonic() < deadline:
                time.sleep(0.05)
            with sessions() as session:
                table = load_routing_table(session)
            leases = RedisLeaseStore(runner_redis)
            deps = TickDeps(
                SqlCampaignStore(sessions),
                LiveStateView(live, ["fs1"]),
                EslSwitch({"fs1": dialer}),
                leases,
                reservations,
                table,
            )
            lease = leases.acquire(campaign_id, "test", 10_000)
            assert lease is not None
            ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)

            def tick() -> bool:
                return ticker.tick() and not settled(sessions, datetime.now(UTC))

            report = run_slice(tick, time.monotonic, time.sleep, 0.1, 45.0)
            assert report.stopped_early, (ticker.stats, report)
        finally:
            dialer.close()
            listener.stop()
        records = list(server.call(lambda: sim.records.all()))

    calls = spans(records)
    assert len(calls) >= LEADS
    by_number: dict[str, list[tuple[float, float]]] = {}
    by_trunk: dict[str, list[tuple[float, float]]] = {}
    for r, start, end in calls:
        by_number.setdefault(r.number, []).append((start, end))
        by_trunk.setdefault(r.gateway, []).append((start, end))
    assert max(max_overlap(v) for v in by_number.values()) == 1
    assert set(by_trunk) <= set(LIMITS)
    for trunk, intervals in by_trunk.items():
        assert max_overlap(intervals) <= LIMITS[trunk], trunk
    assert any(max_overlap(v) == LIMITS[t] for t, v in by_trunk.items())  # limits were reached
    with sessions() as session:
        attempts = session.scalars(select(CallAttempt)).all()
        assert all(a.node == "fs1" and a.outcome is not None for a in attempts)
        dialled = {a.call_uuid for a in attempts if a.outcome != "not_dialled"}
        abandoned = {a.call_uuid for a in attempts if a.abandoned}
    # the abandons the dialer recorded are exactly those the switch saw
    assert abandoned == {r.uuid for r in records if r.abandoned}
    assert {r.uuid for r in records if not r.refused} <= dialled
