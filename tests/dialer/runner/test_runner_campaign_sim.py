"""A 2,000-lead campaign paced by the tick loop against the switch simulator over TCP, with the
listener, real Redis and PostgreSQL, everything on the simulator's scaled clock: every lead
ends final or scheduled for retry; from the simulator's own records no number has two calls
up at once and no trunk exceeds its concurrency; the abandon rate the campaign report gives
is the one the simulator saw."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Lead, LeadStatus
from campaigns.report import campaign_report
from dialer.config import FsNode
from dialer.esl.client import EslClient
from dialer.esl.seam import EventLog, Subscription
from dialer.listener.adapters import RedisLiveState, SqlAttemptSink
from dialer.pacing import Mode, make_pacer
from dialer.routing.redis_reservation import RedisReservations
from dialer.routing.store import load_routing_table
from dialer.runner.adapters import EslSwitch, LiveStateView, SqlCampaignStore
from dialer.runner.lease import RedisLeaseStore
from dialer.runner.tick import CampaignTicker, TickDeps
from dialer.runner.ticker import run_slice
from dialer.sim.clock import SimTime
from dialer.sim.records import CallRecord
from dialer.sim.simulator import SimulatorServer
from workers.listener import start_node

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "sim" / "campaign.yaml"
RUNNER_REDIS_URL = os.environ.get("DIALER_TEST_RUNNER_REDIS_URL", "redis://127.0.0.1:6379/14")
LEADS = 2_000
AGENTS = 60
LIMITS = {"cheap_cn": 50, "premium_cn": 25}
SPEED = 40.0
WALL_LIMIT_S = 150.0


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


def scenario() -> dict[str, Any]:
    """campaign.yaml with more agents, shorter talks, no breaks and room for the load; no
    answering machines (the campaign runs no machine detection, so the dialer could not tell
    one from a person)."""
    raw: dict[str, Any] = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    raw["speed"] = SPEED
    raw["switch"].update(max_sessions=10_000, sessions_per_second=10_000)
    for rule in raw["population"]:
        rule["talk_time_s"] = {"lognormal": {"median": 30, "sigma": 0.6}, "min": 5}
        rule["answering_machine"] = 0.0
    agent = raw["callcenter"]["agents"][0]
    names = [f"a{i:02d}@campaign" for i in range(1, AGENTS + 1)]
    raw["callcenter"]["agents"] = [
        {**agent, "name": n, "contact": agent["contact"].replace("a01", n.split("@")[0])}
        for n in names
    ]
    raw["callcenter"]["tiers"] = [
        {"agent": n, "queue": "campaign@default", "level": 1, "position": i}
        for i, n in enumerate(names, 1)
    ]
    raw["callcenter"].pop("default_behaviour", None)
    return raw


def settled(sessions: sessionmaker[Session], clock: SimTime) -> bool:
    now = clock.now()
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


def run_campaign(
    sessions: sessionmaker[Session], client: redis.Redis[str], campaign_id: int
) -> tuple[list[CallRecord], CampaignTicker, SimTime]:
    """Pace the campaign until it settles; the simulator's records of every call."""
    with SimulatorServer(scenario()) as server:
        sim = server.sim
        clock = server.time()
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        live = RedisLiveState(client, prefix="test:runner:live")
        reservations = RedisReservations(client, prefix="test:runner:cap")
        listener = start_node(
            node,
            live,
            SqlAttemptSink(sessions, clock=clock.now),
            reservations,
            reconcile_every_s=5,
            clock=clock.now_s,
        )
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), EventLog()
        ).start()
        try:
            assert listener.client.wait_connected(5) and dialer.wait_connected(5)
            wait_for_agents(live, clock)
            with sessions() as session:
                table = load_routing_table(session)
            leases = RedisLeaseStore(client)
            deps = TickDeps(
                SqlCampaignStore(sessions),
                LiveStateView(live, ["fs1"]),
                EslSwitch({"fs1": dialer}),
                leases,
                reservations,
                table,
                clock=clock.now,
            )
            lease = leases.acquire(campaign_id, "test", 10_000)
            assert lease is not None
            ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)

            def tick() -> bool:
                return ticker.tick() and not settled(sessions, clock)

            report = run_slice(tick, clock.now_s, clock.sleep_s, 1.0, WALL_LIMIT_S * SPEED)
            assert report.stopped_early, (ticker.stats, report)
        finally:
            dialer.close()
            listener.stop()
        records: list[CallRecord] = server.call(lambda: list(sim.records.all()))
    return records, ticker, clock


def wait_for_agents(live: RedisLiveState, clock: SimTime) -> None:
    deadline = clock.now_s() + 15 * SPEED
    while clock.now_s() < deadline:
        if sum(bool(a.queues) for a in live.agents("fs1").values()) == AGENTS:
            return
        clock.sleep_s(0.05 * SPEED)
    raise AssertionError("the listener did not load the agents and their tiers")


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_campaign_runs_to_the_end_within_limits(
    sessions: sessionmaker[Session],
    runner_redis: redis.Redis[str],
    seed_campaign: Callable[..., int],
) -> None:
    campaign_id = seed_campaign(LEADS, LIMITS)
    records, ticker, _ = run_campaign(sessions, runner_redis, campaign_id)

    calls = spans(records)
    assert len({r.number for r, _, _ in calls}) == LEADS  # every lead was dialled
    by_number: dict[str, list[tuple[float, float]]] = {}
    by_trunk: dict[str, list[tuple[float, float]]] = {}
    for r, start, end in calls:
        by_number.setdefault(r.number, []).append((start, end))
        by_trunk.setdefault(r.gateway, []).append((start, end))
    assert max(max_overlap(v) for v in by_number.values()) == 1
    assert set(by_trunk) <= set(LIMITS)
    peaks = {trunk: max_overlap(intervals) for trunk, intervals in by_trunk.items()}
    assert all(peaks[t] <= LIMITS[t] for t in peaks), peaks
    assert any(peaks[t] == LIMITS[t] for t in peaks), peaks  # the limits were reached

    with sessions() as session:
        attempts = session.scalars(select(CallAttempt)).all()
        statuses = set(session.scalars(select(Lead.status)).all())
        report = campaign_report(session, campaign_id)
    assert statuses <= {LeadStatus.DONE, LeadStatus.FAILED, LeadStatus.PENDING}
    assert all(a.node == "fs1" and a.outcome is not None for a in attempts)
    dialled = {a.call_uuid for a in attempts if a.outcome != "not_dialled"}
    assert dialled == {r.uuid for r in records if not r.refused}
    # the abandons and the people the dialer counted are exactly those the switch saw
    assert {a.call_uuid for a in attempts if a.abandoned} == {
        r.uuid for r in records if r.abandoned
    }
    people = [r for r in records if r.answered_s is not None]
    assert report.answered == len(people)
    assert report.abandon_rate == sum(r.abandoned for r in people) / len(people)
    print(
        f"\n{LEADS} leads, {len(calls)} calls ({ticker.stats.ticks} ticks): "
        f"{report.answered} answered by a person, {report.abandoned} abandoned "
        f"({report.abandon_rate:.2%}), trunk peaks {peaks} of {LIMITS}"
    )
