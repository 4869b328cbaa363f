"""The abandon safety stop against the switch simulator over TCP: a campaign whose queue exists
but whose dialplan extension does not (scenarios/sim/no_route.yaml) is paced by the tick loop
with the real listener, Redis and PostgreSQL on the simulator's clock. Every answered call
ends NO_ROUTE_DESTINATION and is abandoned; the campaign pauses itself after at most 5
abandons, says why in ``dialer campaigns show`` and in its ``campaign.paused`` webhook, and
launches nothing more.

Before the stop existed the same run dialled on at the same pace, every answered call
abandoned, until the bound of the run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.domain import CampaignStatus
from campaigns.models import CallAttempt, Campaign, WebhookDelivery
from dialer.clock import UUID_IDS
from dialer.config import FsNode, Settings
from dialer.db.base import transaction
from dialer.listener.safety import PauseNotice
from dialer.listener.wiring import live_state, node_listeners
from dialer.pacing import Mode, make_pacer
from dialer.postcall.fakes import ScriptedSender
from dialer.postcall.service import deliver_pause_webhook
from dialer.postcall.webhooks import PAUSED_EVENT, TryResult
from dialer.postcall.wiring import post_call_deps
from dialer.routing.wiring import redis_trunk_state
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.runner.wiring import esl_switch, tick_deps
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import SeedCampaign
from tests.support.redis import flushed_redis
from workers.cli import app
from workers.context import app_context

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "no_route.yaml"
NAMESPACE = "test:safety"
WEBHOOK = "https://crm.example/hooks"
TICK_PERIOD_S = 1.0  # simulated
WALL_LIMIT_S = 60.0
SETTLE_WALL_S = 3.0  # after the stop: the calls in flight end (ring and dial times ~10 s)


@pytest.fixture
def safety_redis(redis_urls: Any) -> Iterator[redis.Redis[str]]:
    with flushed_redis(redis_urls.runner) as client:
        yield client


def paused_campaign(sessions: sessionmaker[Session], campaign_id: int) -> Campaign:
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign


def attempts(sessions: sessionmaker[Session]) -> list[CallAttempt]:
    with sessions() as session:
        return list(session.scalars(select(CallAttempt).order_by(CallAttempt.id)))


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_campaign_without_a_dialplan_route_pauses_itself_and_says_why(
    db_url: str,
    sessions: sessionmaker[Session],
    safety_redis: redis.Redis[str],
    seed_campaign: SeedCampaign,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign_id = seed_campaign(500, {"cheap_cn": 100})
    with transaction(sessions) as session:  # `cc_spring` is not in the switch's dialplan
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(name="spring", webhook_url=WEBHOOK, webhook_secret="whsec_safety-sim-0000001")
        )
    scenario = load_scenario(SCENARIO)
    sender = ScriptedSender([TryResult(200)])
    with SimulatorServer(scenario) as server:
        clock = server.time()
        deliveries = post_call_deps(sessions, clock, sender=sender)

        def deliver(notice: PauseNotice) -> None:
            deliver_pause_webhook(notice.call_uuid, notice.reason, notice.paused_at, deliveries)

        node = FsNode(name="fs1", host=server.sim.host, port=server.sim.port_number)
        settings = Settings(freeswitch_nodes=[node])
        trunks = redis_trunk_state(safety_redis, NAMESPACE, keep_health=False)
        [listener] = node_listeners(
            settings, safety_redis, sessions, clock, namespace=NAMESPACE, trunks=trunks,
            reconcile_every_s=5.0 * scenario.speed, notify_paused=deliver,
        )  # fmt: skip
        switch = esl_switch([node], connect_wait_s=5)
        try:
            assert listener.client.wait_connected(5) and switch.nodes() == ["fs1"]
            live = live_state(safety_redis, NAMESPACE)
            deadline = clock.monotonic_s() + 15 * clock.speed
            while sum(bool(a.queues) for a in live.agents("fs1").values()) < 10:
                assert clock.monotonic_s() < deadline, "the listener did not load the agents"
                clock.sleep_s(0.05 * clock.speed)
            deps = tick_deps(
                settings, safety_redis, sessions, switch, clock, UUID_IDS,
                namespace=NAMESPACE, trunks=trunks,
            )  # fmt: skip
            lease = deps.leases.acquire(campaign_id, "test", 10_000)
            assert lease is not None
            ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)
            report = run_slice(ticker.tick, clock, TICK_PERIOD_S, WALL_LIMIT_S * clock.speed)
            stopped_at = clock.now()
            # the calls in flight at the stop end; nothing new is launched meanwhile
            clock.sleep_s(SETTLE_WALL_S * clock.speed)
        finally:
            switch.close()
            listener.stop()

    assert report.stopped_early, ("the campaign was never paused", ticker.stats)
    campaign = paused_campaign(sessions, campaign_id)
    assert campaign.status is CampaignStatus.PAUSED
    assert campaign.pause_reason is not None and campaign.paused_at is not None
    assert "NO_ROUTE_DESTINATION" in campaign.pause_reason
    paused_at: datetime = campaign.paused_at

    # the webhook: one campaign.paused delivery, with the reason and the call that fired it
    [(url, body, headers)] = sender.sent

    calls = attempts(sessions)
    [fired] = [a for a in calls if a.call_uuid == body["call_uuid"]]
    assert fired.ended_at is not None
    abandoned = [a for a in calls if a.abandoned]
    assert all(a.hangup_cause == "NO_ROUTE_DESTINATION" for a in abandoned)
    up_to_stop = [a for a in abandoned if a.ended_at is not None and a.ended_at <= fired.ended_at]
    assert 1 <= len(up_to_stop) <= 5, [(a.call_uuid, a.ended_at) for a in abandoned]
    # in flight when it fired: the firing call and those not ended yet
    in_flight = [a for a in calls if a.ended_at is None or a.ended_at >= fired.ended_at]
    assert len(abandoned) <= len(up_to_stop) - 1 + len(in_flight)
    # no launch after the stop, but for the tick under way when it was stored
    assert max(a.originated_at for a in calls) <= paused_at + timedelta(seconds=TICK_PERIOD_S)
    assert stopped_at <= paused_at + timedelta(seconds=2 * TICK_PERIOD_S)

    assert url == WEBHOOK and headers["X-Dialer-Event"] == PAUSED_EVENT
    assert (body["event"], body["campaign"], body["status"]) == (PAUSED_EVENT, "spring", "paused")
    assert body["reason"] == campaign.pause_reason
    with sessions() as session:
        [delivery] = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event == PAUSED_EVENT)
        ).all()
    assert (delivery.state, delivery.tries, delivery.url) == ("delivered", 1, WEBHOOK)

    # and `dialer campaigns show`
    monkeypatch.setenv("DIALER_DATABASE_URL", db_url.replace("postgresql+psycopg", "postgresql"))
    app_context.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "400"})
    finally:
        app_context.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "paused by the dialer at" in shown.output
    assert "an answered call ended NO_ROUTE_DESTINATION" in shown.output
    print(
        f"\n{len(calls)} calls placed, {len(up_to_stop)} abandoned up to the stop, "
        f"{len(in_flight)} in flight at it ({len(abandoned)} abandoned in all); "
        f"reason: {campaign.pause_reason}"
    )
