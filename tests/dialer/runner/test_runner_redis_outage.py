"""A pacing slice whose Redis is killed and started again. With its append-only file (as a
production Redis runs) the slice lives through it, its ticks fail and are retried with
backoff, and it paces again (originates) soon after Redis is back, under the lease it held.
Restarted empty, the slice ends cleanly and a fresh one paces."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import CampaignStatus, DialMode
from campaigns.models import Campaign
from dialer.agent_state import AgentState
from dialer.backend_errors import is_backend_error
from dialer.clock import SYSTEM_CLOCK, UUID_IDS
from dialer.config import FsNode, Settings
from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import Subscription
from dialer.listener.wiring import live_state
from dialer.routing.lines import LineRebuilder
from dialer.runner.fakes import MemorySwitch
from dialer.runner.service import SliceResult, lapsed_campaigns, pace_slice
from dialer.runner.tick import TickDeps
from dialer.runner.wiring import tick_deps
from tests.conftest import SeedCampaign
from tests.support.redis_server import own_redis
from tests.support.waiting import wait_until
from workers.celery_app import SUPERVISE_EVERY_S

NAMESPACE = "outage"
NO_CHANNELS = '{"row_count": 0}\n'  # `show channels as json` of an idle node (transcript f)
DOWN_S = 2.0  # shorter than the lease TTL (5 s): the slice's lease outlives the outage
RECOVERY_BOUND_S = 3.0


def idle_node_rebuilder(deps: TickDeps) -> LineRebuilder:
    """The lines rebuilder a pacer has over its nodes, here one node with no call up: a
    restarted Redis grants no line before the pacer rebuilt them from it."""
    node = FakeEslConnection(
        "fs1", Subscription(events=()), lambda _e: None, lambda _cmd: NO_CHANNELS
    )
    return LineRebuilder(deps.reservations, {"fs1": node}, "pacer-1", deps.config.slot_lease_s)


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_pacing_slice_paces_again_after_its_redis_returns(
    sessions: sessionmaker[Session], seed_campaign: SeedCampaign, tmp_path: Path
) -> None:
    campaign_id = seed_campaign(50, {"carrier_a": 100}, dial_mode=DialMode.PROGRESSIVE)
    statuses: list[str] = []
    with own_redis(tmp_path, persistent=True) as server:
        client = server.client()
        switch = MemorySwitch()
        settings = Settings(freeswitch_nodes=[FsNode(name="fs1")])
        deps = tick_deps(
            settings, client, sessions, switch, SYSTEM_CLOCK, UUID_IDS, namespace=NAMESPACE
        )
        deps.lines = idle_node_rebuilder(deps)
        results: list[SliceResult] = []
        slice_thread = threading.Thread(
            target=lambda: results.append(
                pace_slice(
                    campaign_id, "w1", None, deps, period_s=0.2, slice_s=60.0,
                    transient=is_backend_error, beat=statuses.append,
                )
            ),
        )  # fmt: skip
        slice_thread.start()
        try:
            time.sleep(1.0)  # ticks, with no agent: no call yet
            server.kill()
            time.sleep(DOWN_S)
            assert slice_thread.is_alive()
            assert statuses.count("ok") >= 3
            assert any(s.startswith("retrying pacing campaign") for s in statuses)
            server.start()
            restarted = time.monotonic()
            agent = AgentState("a1", "Available", "Waiting", queues=("campaign@default",))
            live_state(server.client(), NAMESPACE).put_agent("fs1", agent)
            assert wait_until(lambda: len(switch.sent) > 0, RECOVERY_BOUND_S), statuses[-3:]
            recovery_s = time.monotonic() - restarted
            print(f"pacing: first originate {recovery_s:.2f} s after Redis restarted")
            assert slice_thread.is_alive()
        finally:
            with sessions() as s, s.begin():
                s.execute(update(Campaign).values(status=CampaignStatus.PAUSED))
            slice_thread.join(timeout=15)
    assert [r.reason for r in results] == ["stopped"]


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_redis_restarted_empty_ends_the_slice_and_a_fresh_one_paces(
    sessions: sessionmaker[Session], seed_campaign: SeedCampaign, tmp_path: Path
) -> None:
    """Without persistence the lease is gone with Redis: the slice ends at its next tick
    (no error), the supervisor's check (`lapsed_campaigns`, every 2 s under beat) finds the
    campaign unpaced and a fresh slice paces it."""
    campaign_id = seed_campaign(50, {"carrier_a": 100}, dial_mode=DialMode.PROGRESSIVE)
    with own_redis(tmp_path) as server:
        client = server.client()
        switch = MemorySwitch()
        settings = Settings(freeswitch_nodes=[FsNode(name="fs1")])
        deps = tick_deps(
            settings, client, sessions, switch, SYSTEM_CLOCK, UUID_IDS, namespace=NAMESPACE
        )
        deps.lines = idle_node_rebuilder(deps)
        results: list[SliceResult] = []

        def pace() -> None:
            results.append(
                pace_slice(
                    campaign_id, "w1", None, deps, period_s=0.2, slice_s=60.0,
                    transient=is_backend_error,
                )
            )  # fmt: skip

        first = threading.Thread(target=pace)
        first.start()
        time.sleep(1.0)
        server.kill()
        time.sleep(DOWN_S)
        server.start()
        restarted = time.monotonic()
        first.join(timeout=10)
        assert [r.reason for r in results] == ["stopped"]
        assert lapsed_campaigns(deps.leases, [campaign_id]) == [campaign_id]
        agent = AgentState("a1", "Available", "Waiting", queues=("campaign@default",))
        live_state(server.client(), NAMESPACE).put_agent("fs1", agent)
        second = threading.Thread(target=pace)
        second.start()
        try:
            assert wait_until(lambda: len(switch.sent) > 0, RECOVERY_BOUND_S)
            recovery_s = time.monotonic() - restarted
            print(
                f"pacing, Redis restarted empty: first originate {recovery_s:.2f} s after the "
                f"restart, plus up to {SUPERVISE_EVERY_S:.0f} s until beat's next supervise"
            )
        finally:
            with sessions() as s, s.begin():
                s.execute(update(Campaign).values(status=CampaignStatus.PAUSED))
            second.join(timeout=15)
        assert [r.reason for r in results] == ["stopped", "stopped"]
