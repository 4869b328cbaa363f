"""The `CampaignStore` contract (`dialer.runner.ports`): `MemoryCampaignStore` and
`SqlCampaignStore` on SQLite and PostgreSQL. Claims (their order, the DNC check), fencing,
failing, parking, orphans."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import ClaimedLead, DncRule, LeadStatus, RetryOrder
from campaigns.models import CallAttempt, Campaign, DncEntry, Lead
from dialer.runner.adapters import SqlCampaignStore
from dialer.runner.fakes import MemoryCampaignStore
from dialer.runner.ports import CampaignStore, EndedAttempt, NewAttempt
from tests.conftest import Backend, seed_running_campaign

PORT = "campaign_store"
LEADS = 4


@dataclass(frozen=True, slots=True)
class LeadRow:
    status: str
    claimed_by: str | None
    last_outcome: str | None
    attempts: int
    next_attempt_at: datetime


class Harness(Protocol):
    """A store with one campaign of ``LEADS`` fresh leads due at ``now`` (ids 1 to
    ``LEADS``, due in id order), another campaign, and what their rows hold."""

    store: CampaignStore
    campaign_id: int
    other_campaign_id: int
    now: datetime

    def lead(self, lead_id: int) -> LeadRow: ...

    def make_retry(self, lead_id: int, attempts: int, due_at: datetime) -> None:
        """The lead was dialled ``attempts`` times and is due again at ``due_at``."""
        ...

    def set_retry_order(self, order: RetryOrder) -> None: ...

    def list_dnc(self, rule: DncRule) -> None:
        """Store a DNC entry as a bulk load would, leaving the leads as they are."""
        ...

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        """(outcome, hangup cause) of the attempt row; None when no row was written."""
        ...

    def end(self, call_uuid: str, outcome: str, ended_at: datetime) -> None:
        """The listener ended the attempt (as it records a hangup)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.campaign_id = 1
        self.other_campaign_id = 2
        self.memory = MemoryCampaignStore()
        self.store: CampaignStore = self.memory
        for i in range(LEADS):
            self.memory.add_lead(self.campaign_id, i + 1, f"+86139{i:08d}")
        self.now = datetime.now(UTC)

    def lead(self, lead_id: int) -> LeadRow:
        m = self.memory.leads[self.campaign_id][lead_id]
        lead = m.lead
        return LeadRow(m.status, m.claimed_by, m.last_outcome, lead.attempts, lead.next_attempt_at)

    def make_retry(self, lead_id: int, attempts: int, due_at: datetime) -> None:
        m = self.memory.leads[self.campaign_id][lead_id]
        m.lead = replace(m.lead, attempts=attempts, next_attempt_at=due_at)

    def set_retry_order(self, order: RetryOrder) -> None:
        self.memory.retry_orders[self.campaign_id] = order

    def list_dnc(self, rule: DncRule) -> None:
        self.memory.dnc.append(rule)

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        a = self.memory.attempts.get(call_uuid)
        return None if a is None else (a.outcome, a.hangup_cause)

    def end(self, call_uuid: str, outcome: str, ended_at: datetime) -> None:
        a = self.memory.attempts[call_uuid]
        a.outcome = outcome
        ended = EndedAttempt(a.attempt_id, outcome, False, self.now, ended_at, call_uuid=call_uuid)
        self.memory.ended.append((a.row.campaign_id, ended))


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(sessions, LEADS, {}, prefix="139")
        with sessions.begin() as session:
            other = Campaign(name="other", queue_name="other@default")
            session.add(other)
            session.flush()
            self.other_campaign_id = other.id
        self.store: CampaignStore = SqlCampaignStore(sessions)
        # the leads are due from their insertion on
        self.now = datetime.now(UTC) + timedelta(seconds=1)

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

    def make_retry(self, lead_id: int, attempts: int, due_at: datetime) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Lead)
                .where(Lead.id == lead_id)
                .values(attempts=attempts, next_attempt_at=due_at)
            )

    def set_retry_order(self, order: RetryOrder) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Campaign).where(Campaign.id == self.campaign_id).values(retry_order=order)
            )

    def list_dnc(self, rule: DncRule) -> None:
        with self.sessions.begin() as session:
            session.add(
                DncEntry(
                    number=rule.number,
                    is_prefix=rule.is_prefix,
                    campaign_id=rule.campaign_id,
                    expires_at=rule.expires_at,
                )
            )

    def attempt(self, call_uuid: str) -> tuple[str | None, str | None] | None:
        with self.sessions() as session:
            row = session.scalars(
                select(CallAttempt).where(CallAttempt.call_uuid == call_uuid)
            ).one_or_none()
            return None if row is None else (row.outcome, row.hangup_cause)

    def end(self, call_uuid: str, outcome: str, ended_at: datetime) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(CallAttempt)
                .where(CallAttempt.call_uuid == call_uuid)
                .values(outcome=outcome, ended_at=ended_at)
            )


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


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


def test_claims_take_due_leads_in_order_once(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    assert store.count_due(cid, now, 100) == LEADS
    assert store.count_due(cid, now, 3) == 3
    first = store.claim(cid, 2, now, "w#1")
    second = store.claim(cid, 5, now, "w#1")
    ids = [lead.id for lead in first + second]
    assert len(first) == 2 and len(second) == LEADS - 2
    assert ids == sorted(ids) and len(set(ids)) == LEADS
    assert store.claim(cid, 5, now, "w#1") == []
    assert store.count_due(cid, now, 100) == 0
    assert {h.lead(i).status for i in ids} == {LeadStatus.DIALING}
    assert store.claim(cid + 1000, 5, now, "w#1") == []  # no such campaign


@pytest.mark.parametrize(
    ("order", "claimed"),
    [
        (None, [4, 3, 1, 2]),
        (RetryOrder.RETRIES_FIRST, [4, 3, 1, 2]),
        (RetryOrder.FRESH_FIRST, [1, 2, 4, 3]),
        (RetryOrder.DUE_ORDER, [4, 1, 2, 3]),
    ],
)
def test_claims_place_due_retries_as_the_campaign_orders(
    h: Harness, order: RetryOrder | None, claimed: list[int]
) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    h.make_retry(4, 1, h.lead(1).next_attempt_at - timedelta(days=1))  # due longest
    h.make_retry(3, 2, now)  # due last
    if order is not None:
        h.set_retry_order(order)
    first = store.claim(cid, 1, now, "w#1")
    rest = store.claim(cid, LEADS, now, "w#1")
    assert [lead.id for lead in first + rest] == claimed


def test_claims_turn_leads_on_an_active_dnc_entry_dnc(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    for rule in (
        DncRule("+8613900000000"),  # global: lead 1
        DncRule("+8613900000001", expires_at=now + timedelta(hours=1)),  # lead 2, until then
        DncRule("+8613900000002", campaign_id=cid),  # this campaign's: lead 3
        DncRule("+861390000000", is_prefix=True, campaign_id=h.other_campaign_id),
        DncRule("+86139", is_prefix=True, expires_at=now),  # lapsed at the claim
    ):
        h.list_dnc(rule)
    assert store.claim(cid, 2, now, "w#1") == []  # both chosen are listed
    assert [h.lead(i).status for i in (1, 2)] == [LeadStatus.DNC, LeadStatus.DNC]
    assert {h.lead(i).claimed_by for i in (1, 2)} == {None}
    assert store.count_due(cid, now, 100) == 2
    assert [lead.id for lead in store.claim(cid, LEADS, now, "w#1")] == [4]
    assert (h.lead(3).status, h.lead(4).status) == (LeadStatus.DNC, LeadStatus.DIALING)
    assert store.count_due(cid, now, 100) == 0


def test_a_prefix_entry_covers_the_numbers_it_starts(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    h.list_dnc(DncRule("+8613900000003", is_prefix=True))  # a prefix as long as the number
    h.list_dnc(DncRule("+861390000000", is_prefix=False))  # exact: no 13-digit lead
    h.list_dnc(DncRule("+86139000000010", is_prefix=False))  # exact, longer than lead 2
    assert [lead.id for lead in store.claim(cid, LEADS, now, "w#1")] == [1, 2, 3]
    assert h.lead(4).status == LeadStatus.DNC


def test_claims_taken_over_get_no_rows(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    later = now + timedelta(seconds=2)
    old = store.claim(cid, 3, now, "w#1")
    assert store.release_orphans(cid, now + timedelta(seconds=1), "w#2") == 3
    new = store.claim(cid, 3, later, "w#2")
    assert {lead.id for lead in new} == {lead.id for lead in old}
    late = attempts_for(old, cid, "aa")
    assert store.start_attempts(late, "w#1", later) == {}
    assert [h.attempt(a.call_uuid) for a in late] == [None, None, None]
    assert {(h.lead(x.id).status, h.lead(x.id).claimed_by) for x in new} == {
        (LeadStatus.DIALING, "w#2")
    }
    fresh = attempts_for(new, cid, "bb")
    written = store.start_attempts(fresh, "w#2", later)
    assert list(written) == [a.call_uuid for a in fresh]
    assert len(set(written.values())) == 3


def test_only_leads_still_held_get_rows(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    leads = store.claim(cid, 3, now, "w#1")
    store.unclaim([leads[0].id], "w#1")
    rows = attempts_for(leads, cid, "cc")
    written = store.start_attempts(rows, "w#1", now)
    assert list(written) == [r.call_uuid for r in rows[1:]]
    assert h.attempt(rows[0].call_uuid) is None
    assert h.lead(leads[0].id).status == LeadStatus.PENDING


def test_cancelled_attempts_end_not_dialled_and_give_their_leads_back(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    leads = store.claim(cid, 2, now, "w#1")
    rows = attempts_for(leads, cid, "ee")
    assert len(store.start_attempts(rows, "w#1", now)) == 2
    store.cancel_attempts([rows[0].call_uuid], "w#1", now)
    store.cancel_attempts([rows[0].call_uuid], "w#1", now)  # a second time: no change
    assert h.attempt(rows[0].call_uuid) == ("not_dialled", "NOT_SENT")
    back = h.lead(leads[0].id)
    assert (back.status, back.claimed_by, back.attempts) == (LeadStatus.PENDING, None, 0)
    assert h.attempt(rows[1].call_uuid) == (None, None)
    store.cancel_attempts([rows[1].call_uuid], "w#9", now)  # not the claimer: the lead stays
    assert h.attempt(rows[1].call_uuid) == ("not_dialled", "NOT_SENT")
    assert h.lead(leads[1].id).status == LeadStatus.DIALING


def test_unsafe_attempts_end_their_leads_for_good(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    leads = store.claim(cid, 2, now, "w#1")
    rows = attempts_for(leads, cid, "dd")
    assert len(store.start_attempts(rows, "w#1", now)) == 2
    store.fail_attempts([rows[0].call_uuid], "w#1", now)
    assert h.attempt(rows[0].call_uuid) == ("not_dialled", "UNSAFE_VALUE")
    failed = h.lead(leads[0].id)
    assert (failed.status, failed.last_outcome, failed.claimed_by, failed.attempts) == (
        LeadStatus.FAILED,
        "unsafe_value",
        None,
        0,
    )
    assert h.attempt(rows[1].call_uuid) == (None, None)  # the other call is untouched
    assert store.count_due(cid, now + timedelta(seconds=2), 100) == LEADS - 2
    store.fail_attempts([rows[1].call_uuid], "w#9", now)  # not the claimer: the lead stays
    assert h.lead(leads[1].id).status == LeadStatus.DIALING


def test_unreachable_leads_wait_without_blocking_others(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    later = now + timedelta(seconds=2)
    leads = store.claim(cid, 2, now, "w#1")
    until = now + timedelta(hours=1)
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
    assert store.count_due(cid, later, 100) == LEADS - 2
    again = store.claim(cid, LEADS, later, "w#1")
    assert len(again) == LEADS - 2 and leads[0].id not in {x.id for x in again}
    assert store.count_due(cid, until, 100) == 1


def test_orphaned_claims_go_back_to_pending(h: Harness) -> None:
    store, cid, now = h.store, h.campaign_id, h.now
    dead = store.claim(cid, 2, now, "dead#1")
    assert len(store.start_attempts(attempts_for(dead[:1], cid, "ff"), "dead#1", now)) == 1
    mine = store.claim(cid, 1, now, "me#2")
    assert store.release_orphans(cid, now - timedelta(seconds=1), "me#2") == 0  # too recent
    assert store.release_orphans(cid, now + timedelta(seconds=1), "me#2") == 1
    assert store.release_orphans(cid, now + timedelta(seconds=1), "me#2") == 0
    assert h.lead(dead[0].id).status == LeadStatus.DIALING  # its call may still be up
    assert (h.lead(dead[1].id).status, h.lead(dead[1].id).claimed_by) == (
        LeadStatus.PENDING,
        None,
    )
    assert h.lead(mine[0].id).status == LeadStatus.DIALING


def test_the_latest_ended_attempts_are_the_newest_oldest_first(h: Harness) -> None:
    leads = h.store.claim(h.campaign_id, LEADS, h.now, "w#1")
    rows = attempts_for(leads, h.campaign_id, "e1")
    written = h.store.start_attempts(rows, "w#1", h.now)
    assert len(written) == LEADS
    for i, row in enumerate(rows):  # the first row ends last
        h.end(row.call_uuid, "no_answer", h.now + timedelta(seconds=10 * (LEADS - i)))
    newest = h.store.latest_ended(h.campaign_id, h.now, 2)
    assert [e.call_uuid for e in newest] == [rows[1].call_uuid, rows[0].call_uuid]
    oldest = h.store.ended_since(h.campaign_id, h.now, 2)
    assert [e.call_uuid for e in oldest] == [rows[-1].call_uuid, rows[-2].call_uuid]
    later = h.store.latest_ended(h.campaign_id, h.now + timedelta(seconds=35), 10)
    assert [e.call_uuid for e in later] == [rows[0].call_uuid]
    assert h.store.latest_ended(h.other_campaign_id, h.now, 10) == []
