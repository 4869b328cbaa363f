"""`SqlCampaignStore` on SQLite and PostgreSQL: claims, attempt rows, cancellation, the feed;
the `CampaignStore` contract of fencing, failing and parking, asserted identically on the
in-memory twin (`MemoryCampaignStore`) and on both databases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Protocol

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, CampaignStatus, Lead, LeadStatus
from campaigns.rules import CallingWindow, Window
from campaigns.selection import ClaimedLead
from campaigns.service import create_campaign, parse_spec
from dialer.db.base import transaction
from dialer.listener.switch_state import AgentState
from dialer.pacing import Decision, Mode, Outcome, Snapshot
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.table import RoutingTable
from dialer.runner.adapters import SqlCampaignStore, _hold, running_campaign_ids
from dialer.runner.lease import MemoryLeaseStore
from dialer.runner.memory import MemoryCampaignStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import CampaignStore, NewAttempt
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
        "dead#1",
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


# The contract, on each store.

LEADS = 4
LATER = NOW + timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class LeadRow:
    status: str
    claimed_by: str | None
    last_outcome: str | None
    attempts: int
    next_attempt_at: datetime


class Harness(Protocol):
    """A store with one campaign of ``LEADS`` due leads, and what its rows hold."""

    store: CampaignStore
    campaign_id: int

    def lead(self, lead_id: int) -> LeadRow: ...

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        """(outcome, hangup cause) of the attempt row; None when no row was written."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.campaign_id = 1
        self.memory = MemoryCampaignStore()
        self.store: CampaignStore = self.memory
        for i in range(LEADS):
            self.memory.add_lead(self.campaign_id, i + 1, f"+86139{i:08d}")

    def lead(self, lead_id: int) -> LeadRow:
        m = self.memory.leads[self.campaign_id][lead_id]
        lead = m.lead
        return LeadRow(m.status, m.claimed_by, m.last_outcome, lead.attempts, lead.next_attempt_at)

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        a = self.memory.attempts.get(call_uuid)
        return None if a is None else (a.outcome, a.hangup_cause)


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed(sessions, LEADS)
        self.store: CampaignStore = SqlCampaignStore(sessions)

    def lead(self, lead_id: int) -> LeadRow:
        with self.sessions() as session:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            return LeadRow(
                lead.status,
                lead.claimed_by,
                lead.last_outcome,
                lead.attempts,
                lead.next_attempt_at,
            )

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        with self.sessions() as session:
            row = session.scalars(
                select(CallAttempt).where(CallAttempt.call_uuid == call_uuid)
            ).one_or_none()
            return None if row is None else (row.outcome, row.hangup_cause)


def attempts_for(leads: list[ClaimedLead], campaign_id: int, tag: str) -> list[NewAttempt]:
    return [
        NewAttempt(
            f"00000000-0000-0000-00{tag}-{lead.id:012d}",
            lead.id,
            campaign_id,
            lead.attempts + 1,
            "fs1",
            "t1",
            None,
            lead.phone_e164,
        )
        for lead in leads
    ]


def claims_taken_over_get_no_rows(h: Harness) -> None:
    store, cid = h.store, h.campaign_id
    old = store.claim(cid, 3, NOW, "w#1")
    assert store.release_orphans(cid, NOW + timedelta(seconds=1), "w#2") == 3
    new = store.claim(cid, 3, LATER, "w#2")
    assert {lead.id for lead in new} == {lead.id for lead in old}
    late = attempts_for(old, cid, "aa")
    assert store.start_attempts(late, "w#1", LATER) == {}
    assert [h.attempt(a.call_uuid) for a in late] == [None, None, None]
    assert {(h.lead(x.id).status, h.lead(x.id).claimed_by) for x in new} == {
        (LeadStatus.DIALING, "w#2")
    }
    fresh = attempts_for(new, cid, "bb")
    written = store.start_attempts(fresh, "w#2", LATER)
    assert list(written) == [a.call_uuid for a in fresh]
    assert len(set(written.values())) == 3


def only_leads_still_held_get_rows(h: Harness) -> None:
    store, cid = h.store, h.campaign_id
    leads = store.claim(cid, 3, NOW, "w#1")
    store.unclaim([leads[0].id], "w#1")
    rows = attempts_for(leads, cid, "cc")
    written = store.start_attempts(rows, "w#1", NOW)
    assert list(written) == [r.call_uuid for r in rows[1:]]
    assert h.attempt(rows[0].call_uuid) is None
    assert h.lead(leads[0].id).status == LeadStatus.PENDING


def unsafe_attempts_end_their_leads_for_good(h: Harness) -> None:
    store, cid = h.store, h.campaign_id
    leads = store.claim(cid, 2, NOW, "w#1")
    rows = attempts_for(leads, cid, "dd")
    assert len(store.start_attempts(rows, "w#1", NOW)) == 2
    store.fail_attempts([rows[0].call_uuid], "w#1", NOW)
    assert h.attempt(rows[0].call_uuid) == ("not_dialled", "UNSAFE_VALUE")
    failed = h.lead(leads[0].id)
    assert (failed.status, failed.last_outcome, failed.claimed_by, failed.attempts) == (
        LeadStatus.FAILED,
        "unsafe_value",
        None,
        0,
    )
    assert h.attempt(rows[1].call_uuid) == (None, None)  # the other call is untouched
    assert store.count_due(cid, LATER, 100) == LEADS - 2
    store.fail_attempts([rows[1].call_uuid], "w#9", NOW)  # not the claimer: the lead stays
    assert h.lead(leads[1].id).status == LeadStatus.DIALING


def unreachable_leads_wait_without_blocking_others(h: Harness) -> None:
    store, cid = h.store, h.campaign_id
    leads = store.claim(cid, 2, NOW, "w#1")
    until = NOW + timedelta(hours=1)
    store.park([leads[0].id], "w#1", until)
    store.park([leads[1].id], "w#9", until)  # not the claimer: no effect
    parked = h.lead(leads[0].id)
    assert (parked.status, parked.last_outcome, parked.claimed_by, parked.attempts) == (
        LeadStatus.PENDING,
        "unroutable",
        None,
        0,
    )
    assert parked.next_attempt_at == until
    assert h.lead(leads[1].id).claimed_by == "w#1"
    assert store.count_due(cid, LATER, 100) == LEADS - 2
    again = store.claim(cid, LEADS, LATER, "w#1")
    assert len(again) == LEADS - 2 and leads[0].id not in {x.id for x in again}
    assert store.count_due(cid, until, 100) == 1


CONTRACTS: list[Callable[[Harness], None]] = [
    claims_taken_over_get_no_rows,
    only_leads_still_held_get_rows,
    unsafe_attempts_end_their_leads_for_good,
    unreachable_leads_wait_without_blocking_others,
]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.__name__)
def test_memory_store_keeps_the_contract(contract: Callable[[Harness], None]) -> None:
    contract(MemoryHarness())


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.__name__)
def test_sql_store_keeps_the_contract(
    contract: Callable[[Harness], None], sessions: sessionmaker[Session]
) -> None:
    contract(SqlHarness(sessions))
