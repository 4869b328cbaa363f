"""`SqlCampaignStore` on SQLite and PostgreSQL: claims, attempt rows, cancellation, the feed,
the lock of the fence check, a tick whose claims were taken over. The `CampaignStore`
contract it shares with `MemoryCampaignStore` is in tests/contracts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import CampaignStatus, LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.rules import CallingWindow, Window
from campaigns.service import create_campaign, parse_spec
from dialer.agent_state import AgentState
from dialer.db.base import transaction
from dialer.pacing import Decision, Mode, Outcome, Snapshot
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.table import RoutingTable
from dialer.runner.adapters import SqlCampaignStore, _hold, running_campaign_ids
from dialer.runner.fakes import MemoryLeaseStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import NewAttempt
from dialer.runner.tick import CampaignTicker
from dialer.runner.wiring import memory_tick_deps
from tests.support.clock import FakeClock, SequentialIds

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def seed(sessions: sessionmaker[Session], leads: int = 5) -> int:
    window = CallingWindow(
        windows=(Window(days=frozenset(range(7)), start=dtime(9), end=dtime(20)),)
    )
    with transaction(sessions) as session:
        campaign = create_campaign(
            session, parse_spec(name="spring", queue_name="spring@default", calling_window=window)
        )
        campaign.status = CampaignStatus.RUNNING
        for i in range(leads):
            session.add(
                Lead(
                    campaign_id=campaign.id,
                    phone_e164=f"+86139{i:08d}",
                    phone_raw=f"139{i:08d}",
                    country="CN",
                    time_zones="Asia/Shanghai",
                    number_type="mobile",
                    next_attempt_at=NOW - timedelta(minutes=1),
                )
            )
        return campaign.id


def test_sql_store_claims_writes_cancels_and_feeds(sessions: sessionmaker[Session]) -> None:
    cid = seed(sessions)
    store = SqlCampaignStore(sessions)
    plan = store.plan(cid)
    assert plan is not None and plan.running and plan.mode is Mode.PREDICTIVE
    assert (plan.extension, plan.context) == ("cc_spring", "campaign")
    assert running_campaign_ids(sessions) == [cid]
    assert store.count_due(cid, NOW, 100) == 5
    assert store.count_due(cid, NOW + timedelta(hours=12), 100) == 0  # 22:00 local: closed
    leads = store.claim(cid, 3, NOW, "w#4")
    assert len(leads) == 3 and store.count_due(cid, NOW, 100) == 2
    rows = [
        NewAttempt(
            f"00000000-0000-0000-0000-00000000000{i}",
            lead.id,
            cid,
            1,
            "fs1",
            "t1",
            None,
            lead.phone_e164,
        )
        for i, lead in enumerate(leads)
    ]
    written = store.start_attempts(rows, "w#4", NOW)
    assert list(written) == [r.call_uuid for r in rows]
    ids = list(written.values())
    assert len(set(ids)) == 3
    store.cancel_attempts([rows[0].call_uuid], "w#4", NOW)
    store.unclaim([leads[1].id], "w#other")  # not the claimer: no effect
    with sessions() as session:
        statuses = dict(session.execute(select(Lead.id, Lead.status)).all())
        assert statuses[leads[0].id] is LeadStatus.PENDING
        assert statuses[leads[1].id] is LeadStatus.DIALING
        first = session.scalars(select(CallAttempt).where(CallAttempt.id == ids[0])).one()
        assert first.outcome == "not_dialled" and first.node == "fs1"
    with transaction(sessions) as session:
        row = session.get(CallAttempt, ids[1])
        assert row is not None
        row.outcome, row.abandoned = "abandoned", True
        row.answered_at, row.ended_at = NOW + timedelta(seconds=8), NOW + timedelta(seconds=11)
    ended = store.ended_since(cid, NOW, 10)
    assert [e.outcome for e in ended] == ["not_dialled", "abandoned"]
    assert store.budget_counts(cid, NOW - timedelta(days=30)) == (1, 1)


def test_the_fence_check_locks_the_lead_rows(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    cid = seed(sessions, leads=2)
    leads = SqlCampaignStore(sessions).claim(cid, 2, NOW, "w#1")
    ids = {lead.id for lead in leads}
    release = text("UPDATE leads SET status = 'pending', claimed_by = NULL WHERE id = :id")
    with transaction(sessions) as session:
        assert _hold(session, ids | {10_000}, "w#1") == ids
        assert _hold(session, ids, "w#2") == set()
        with engine.connect() as other:  # release_orphans of a newer pacer must wait
            if engine.dialect.name == "postgresql":
                other.execute(text("SET lock_timeout = 100"))
            else:
                other.execute(text("PRAGMA busy_timeout = 100"))
            with pytest.raises(OperationalError):
                other.execute(release, {"id": leads[0].id})
            other.rollback()
    with engine.begin() as other:
        assert other.execute(release, {"id": leads[0].id}).rowcount == 1


class LaunchFour:
    mode = Mode.PROGRESSIVE

    def decide(self, snapshot: Snapshot) -> Decision:
        return Decision(4)

    def observe(self, outcome: Outcome) -> None:
        pass


def test_a_tick_whose_claims_were_taken_over_writes_and_sends_nothing(
    sessions: sessionmaker[Session],
) -> None:
    cid = seed(sessions, leads=4)
    clock = FakeClock(NOW)
    leases = MemoryLeaseStore(clock)
    old = leases.acquire(cid, "w1", 10_000)
    assert old is not None
    newer: list[str] = []

    class TakenOverStore(SqlCampaignStore):
        def start_attempts(
            self, attempts: Sequence[NewAttempt], claimer: str, now: datetime
        ) -> dict[str, int]:
            # The w1 pacer stalls before its rows; w2 takes the lease and the claims.
            leases.release(old)
            new = leases.acquire(cid, "w2", 10_000)
            assert new is not None
            newer.append(f"w2#{new.token}")
            assert self.release_orphans(cid, now + timedelta(seconds=1), newer[0]) == 4
            assert len(self.claim(cid, 4, now, newer[0])) == 4
            return super().start_attempts(attempts, claimer, now)

    switch = MemorySwitch()
    deck = RateDeck.of([RateEntry("86", Decimal("0.05"))])
    trunk = Trunk(name="t1", proxy_host="192.0.2.1", max_concurrency=10, rates=deck)
    agents = [
        AgentState(f"a{i}", "Available", "Waiting", queues=("spring@default",)) for i in range(4)
    ]
    deps = memory_tick_deps(
        clock,
        SequentialIds(),
        table=RoutingTable([trunk]),
        store=TakenOverStore(sessions),
        live=MemoryLiveView(agents),
        switch=switch,
        leases=leases,
    )
    ticker = CampaignTicker(old, LaunchFour(), deps)
    assert not ticker.tick()
    assert switch.sent == [] and ticker.stats.fenced == 4
    assert deps.reservations.usage(["t1"])["t1"].in_flight == 0
    with sessions() as session:
        assert session.scalars(select(CallAttempt)).all() == []
        claims = session.execute(select(Lead.status, Lead.claimed_by)).all()
    assert set(claims) == {(LeadStatus.DIALING, newer[0])}


def test_the_plan_says_whether_the_campaign_records(sessions: sessionmaker[Session]) -> None:
    from campaigns.service import update_campaign

    cid = seed(sessions)
    store = SqlCampaignStore(sessions)
    plan = store.plan(cid)
    assert plan is not None and plan.record is False
    with transaction(sessions) as session:
        update_campaign(session, "spring", {"record": True})
    plan = store.plan(cid)
    assert plan is not None and plan.record is True
