"""`SqlCampaignStore` on SQLite and PostgreSQL: claims, attempt rows, cancellation, the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, CampaignStatus, Lead, LeadStatus
from campaigns.rules import CallingWindow, Window
from campaigns.service import create_campaign, parse_spec
from dialer.db.base import transaction
from dialer.pacing import Mode
from dialer.runner.adapters import SqlCampaignStore, running_campaign_ids
from dialer.runner.ports import NewAttempt

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
    ids = store.start_attempts(rows, NOW)
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


def test_orphaned_claims_go_back_to_pending(sessions: sessionmaker[Session]) -> None:
    cid = seed(sessions, leads=3)
    store = SqlCampaignStore(sessions)
    dead = store.claim(cid, 2, NOW, "dead#1")
    store.start_attempts(
        [
            NewAttempt(
                "00000000-0000-0000-0000-0000000000aa",
                dead[0].id,
                cid,
                1,
                "fs1",
                "t",
                None,
                dead[0].phone_e164,
            )
        ],
        NOW,
    )
    mine = store.claim(cid, 1, NOW, "me#2")
    assert store.release_orphans(cid, NOW - timedelta(seconds=1), "me#2") == 0  # too recent
    assert store.release_orphans(cid, NOW + timedelta(seconds=1), "me#2") == 1
    with sessions() as session:
        statuses = dict(session.execute(select(Lead.id, Lead.status)).all())
    assert statuses[dead[0].id] is LeadStatus.DIALING  # its call may still be up
    assert statuses[dead[1].id] is LeadStatus.PENDING
    assert statuses[mine[0].id] is LeadStatus.DIALING
