"""Two real Celery worker processes pace a campaign against the simulator; the one pacing it
is killed with SIGKILL; the other goes on (through the hand-off message, or after the lease
lapsed through the supervisor) within seconds, and the campaign still ends with no number
dialled twice at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.clock import SYSTEM_CLOCK
from dialer.config import FsNode, Settings
from dialer.listener.wiring import node_listeners
from dialer.routing.wiring import redis_trunk_state
from dialer.runner.adapters import RedisLeaseStore
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from workers.cli.run import worker_argv

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "sim" / "campaign.yaml"
LEADS = 80


def settled(sessions: sessionmaker[Session]) -> bool:
    now = datetime.now(UTC)
    with sessions() as session:
        rows = session.execute(select(Lead.status, Lead.next_attempt_at)).all()
    return all(
        s is not LeadStatus.DIALING and not (s is LeadStatus.PENDING and at <= now)
        for s, at in rows
    )


def wait_for(pred: Callable[[], bool], timeout_s: float, ping: Callable[[], None]) -> bool:
    deadline = time.monotonic() + timeout_s
    last_ping = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - last_ping >= 1.0:
            ping()  # the beat's job: the supervisor every second
            last_ping = time.monotonic()
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_pacing_worker_is_replaced_within_seconds(
    db_url: str,
    sessions: sessionmaker[Session],
    seed_campaign: Callable[..., int],
    celery_broker_url: str,
) -> None:
    from workers.celery_app import app

    redis_url = celery_broker_url

    client: redis.Redis[str] = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    campaign_id = seed_campaign(LEADS, {"cheap_cn": 12}, prefix="137")
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    scenario = replace(load_scenario(SCENARIO), speed=50.0)
    workers: list[subprocess.Popen[bytes]] = []
    with SimulatorServer(scenario) as server:
        sim = server.sim
        server.call(lambda: setattr(sim.switch.admission, "sps_limit", 10_000))
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        # the deployment's keys, as the worker processes use them; no trunk health kept
        [listener] = node_listeners(
            Settings(freeswitch_nodes=[node]), client, sessions, SYSTEM_CLOCK,
            trunks=redis_trunk_state(client, keep_health=False),
        )  # fmt: skip
        env = {
            **os.environ,
            "DIALER_DATABASE_URL": db_url,
            "DIALER_REDIS_URL": redis_url,
            "DIALER_FREESWITCH_NODES": json.dumps([node.model_dump()]),
            "DIALER_PACING_PERIOD_S": "0.1",
            "DIALER_PACING_SLICE_S": "2",
        }
        leases = RedisLeaseStore(client)

        def supervise() -> None:
            app.send_task("dialer.supervise")

        try:
            for i in range(2):
                argv = worker_argv("pacing", "threads", 4, f"takeover{i}", "warning")
                workers.append(subprocess.Popen(argv, cwd=ROOT, env=env))
            assert wait_for(lambda: leases.holder(campaign_id) is not None, 30, supervise)

            def calls_up() -> bool:
                with sessions() as session:
                    return len(session.scalars(select(CallAttempt.id)).all()) >= 10

            assert wait_for(calls_up, 30, supervise)
            first = leases.holder(campaign_id)
            assert first is not None
            victim = int(first.owner.split(":")[1])
            assert victim in {w.pid for w in workers}
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            killed_wall = datetime.now(UTC)

            def dialling_again() -> bool:
                # Either the victim's hand-off message reached the other worker before the
                # lease lapsed (same token, renewed), or the supervisor restarted the campaign
                # (higher token): either way new attempts are originated.
                with sessions() as session:
                    newer = session.scalars(
                        select(CallAttempt.id).where(CallAttempt.originated_at > killed_wall)
                    ).first()
                return newer is not None

            def paced_again() -> bool:
                # a lease alive past its TTL after the kill is renewed by a live pacer
                alive = time.monotonic() - killed_at > 5.5 and leases.holder(campaign_id)
                return dialling_again() or bool(alive)

            if not wait_for(paced_again, 25, supervise):
                with sessions() as session:
                    counts = Counter(session.scalars(select(Lead.status)).all())
                lease_now = leases.holder(campaign_id)
                raise AssertionError(f"not paced again: leads {counts}, lease {lease_now}")
            takeover_s = time.monotonic() - killed_at
            print(f"pacing again {takeover_s:.1f} s after SIGKILL")
            second = leases.holder(campaign_id)
            assert second is not None and second.token >= first.token
            assert takeover_s < 5.0 + 3.0 + 2.0, takeover_s  # TTL + kick marker + start
            assert wait_for(lambda: settled(sessions), 60, supervise)
        finally:
            for w in workers:
                if w.poll() is None:
                    w.terminate()
            for w in workers:
                try:
                    w.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
            listener.stop()
            client.flushdb()
        records = list(server.call(lambda: sim.records.all()))
    by_number: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        if not r.refused and r.hangup_s:
            by_number.setdefault(r.number, []).append((r.created_s, r.hangup_s))
    for spans in by_number.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(spans))
    assert len(by_number) == LEADS
