"""The `LeadStore` contract (`campaigns.importer.ports`): `MemoryLeadStore`, and `SqlLeadStore`
on SQLite and PostgreSQL. Campaigns by name, one list per file, dedupe against the campaign's
leads, DNC entries in force, checkpoints that add up and survive a resume, batches that
commit whole or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.dnc import add_entry
from campaigns.importer.adapters import SqlLeadStore
from campaigns.importer.classify import LeadCandidate, Reject, RowOutcome
from campaigns.importer.fakes import MemoryDncEntry, MemoryLeadStore
from campaigns.importer.ports import ImportTarget, LeadStore
from campaigns.models import Lead
from campaigns.numbers import Normalized, normalize
from tests.conftest import Backend

PORT = "lead_store"
SHA_A, SHA_B = "a" * 64, "b" * 64
NOW = datetime.now(UTC)
# Entries are added before any of the expiries the tests give them, lapsed ones included.
ADDED_AT = NOW - timedelta(days=365)
ACCEPTED, DUPLICATE, DNC, INVALID = (
    RowOutcome.ACCEPTED,
    RowOutcome.DUPLICATE,
    RowOutcome.DNC,
    RowOutcome.INVALID,
)


class Harness(Protocol):
    store: LeadStore

    def campaign(self, name: str, default_region: str = "CN") -> int:
        """A new campaign; its id."""
        ...

    def dnc(self, entry: MemoryDncEntry) -> None:
        """Add a DNC entry (the fake's record of one says what an entry is)."""
        ...

    def phones(self, campaign_id: int) -> list[str]:
        """The campaign's lead numbers, sorted."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryLeadStore()
        self.store: LeadStore = self.memory

    def campaign(self, name: str, default_region: str = "CN") -> int:
        return self.memory.add_campaign(name, default_region)

    def dnc(self, entry: MemoryDncEntry) -> None:
        self.memory.dnc.append(entry)

    def phones(self, campaign_id: int) -> list[str]:
        return sorted(e164 for cid, e164 in self.memory.leads if cid == campaign_id)


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.store: LeadStore = SqlLeadStore(sessions)

    def campaign(self, name: str, default_region: str = "CN") -> int:
        spec = service.parse_spec(name=name, queue_name="sales", default_region=default_region)
        with self.sessions.begin() as session:
            return service.create_campaign(session, spec).id

    def dnc(self, entry: MemoryDncEntry) -> None:
        with self.sessions.begin() as session:
            add_entry(
                session, entry.number, region="CN", now=ADDED_AT, is_prefix=entry.is_prefix,
                campaign_id=entry.campaign_id, expires_at=entry.expires_at,
            )  # fmt: skip

    def phones(self, campaign_id: int) -> list[str]:
        with self.sessions() as session:
            query = select(Lead.phone_e164).where(Lead.campaign_id == campaign_id)
            return sorted(session.scalars(query))


@pytest.fixture
def h(backend: Backend) -> Harness:
    if backend.is_fake:
        return MemoryHarness()
    return SqlHarness(backend.sessions())


def cand(row_no: int, raw: str) -> LeadCandidate:
    number = normalize(raw, "CN")
    assert isinstance(number, Normalized)
    return LeadCandidate(row_no, raw, number, {"name": f"row {row_no}"})


def dup(row_no: int, raw: str, reason: str) -> Reject:
    return Reject(row_no, raw, DUPLICATE, reason)


def test_a_campaign_is_found_by_name_with_its_region(h: Harness) -> None:
    spring = h.campaign("spring", "US")
    assert h.store.find_campaign("spring") == ImportTarget(spring, "US")
    assert h.store.find_campaign("nope") is None


def test_a_file_opens_one_list_per_campaign_whatever_its_name(h: Harness) -> None:
    spring, autumn = h.campaign("spring"), h.campaign("autumn")
    first = h.store.open_list(spring, "leads.csv", SHA_A)
    assert (first.rows_done, first.complete, sum(first.counts.values())) == (0, False, 0)
    assert h.store.open_list(spring, "renamed.csv", SHA_A).lead_list_id == first.lead_list_id
    other_file = h.store.open_list(spring, "leads.csv", SHA_B).lead_list_id
    other_campaign = h.store.open_list(autumn, "leads.csv", SHA_A).lead_list_id
    assert len({first.lead_list_id, other_file, other_campaign}) == 3


def test_new_numbers_go_in_and_known_ones_come_back_as_duplicates(h: Harness) -> None:
    spring, autumn = h.campaign("spring"), h.campaign("autumn")
    monday = h.store.open_list(spring, "monday.csv", SHA_A).lead_list_id
    tuesday = h.store.open_list(spring, "tuesday.csv", SHA_B).lead_list_id
    elsewhere = h.store.open_list(autumn, "monday.csv", SHA_A).lead_list_id
    with h.store.batch() as batch:
        new = [cand(2, "13800138000"), cand(3, "138 0013 8001")]
        assert batch.insert_new(spring, monday, new) == []
        # a batch sees its own inserts
        again = batch.insert_new(spring, monday, [cand(4, "13800138000")])
        assert again == [dup(4, "13800138000", "+8613800138000 repeats row 2")]
    with h.store.batch() as batch:
        known = batch.insert_new(spring, tuesday, [cand(2, "13800138001"), cand(3, "13800138002")])
        assert known == [dup(2, "13800138001", "+8613800138001 is already a lead of this campaign")]
        assert batch.insert_new(autumn, elsewhere, [cand(2, "13800138000")]) == []
    assert h.phones(spring) == ["+8613800138000", "+8613800138001", "+8613800138002"]
    assert h.phones(autumn) == ["+8613800138000"]


def test_numbers_that_are_leads_of_other_campaigns_are_found(h: Harness) -> None:
    spring, autumn = h.campaign("spring"), h.campaign("autumn")
    in_spring = h.store.open_list(spring, "a.csv", SHA_A).lead_list_id
    in_autumn = h.store.open_list(autumn, "a.csv", SHA_A).lead_list_id
    with h.store.batch() as batch:
        batch.insert_new(spring, in_spring, [cand(2, "13800138000")])
        batch.insert_new(autumn, in_autumn, [cand(2, "13800138001")])
    numbers = ["+8613800138000", "+8613800138001", "+8613800138002"]
    with h.store.batch() as batch:
        assert batch.in_other_campaigns(spring, numbers) == {"+8613800138001": autumn}
        assert batch.in_other_campaigns(autumn, numbers) == {"+8613800138000": spring}
        assert batch.in_other_campaigns(spring, []) == {}


def test_dnc_entries_in_force_are_found_exactly_or_by_prefix(h: Harness) -> None:
    spring, autumn = h.campaign("spring"), h.campaign("autumn")
    hour = timedelta(hours=1)
    for entry in [
        MemoryDncEntry("+8613900000000"),
        MemoryDncEntry("+8613900000001", campaign_id=spring),
        MemoryDncEntry("+8613900000002", campaign_id=autumn),
        MemoryDncEntry("+8613900000003", expires_at=NOW - hour),
        MemoryDncEntry("+8613900000004", expires_at=NOW + hour),
        MemoryDncEntry("+86139", is_prefix=True),
        MemoryDncEntry("+86188", is_prefix=True, campaign_id=autumn),
        MemoryDncEntry("+86177", is_prefix=True, expires_at=NOW - hour),
    ]:
        h.dnc(entry)
    numbers = [f"+861390000000{i}" for i in range(6)]
    with h.store.batch() as batch:
        assert batch.dnc_exact(spring, numbers, NOW) == {
            "+8613900000000", "+8613900000001", "+8613900000004",
        }  # fmt: skip
        assert batch.dnc_exact(autumn, numbers, NOW) == {
            "+8613900000000", "+8613900000002", "+8613900000004",
        }  # fmt: skip
    assert h.store.dnc_prefixes(spring, NOW) == ["+86139"]
    assert sorted(h.store.dnc_prefixes(autumn, NOW)) == ["+86139", "+86188"]


def test_checkpoints_add_up_and_a_resumed_import_starts_after_them(h: Harness) -> None:
    spring = h.campaign("spring")
    list_id = h.store.open_list(spring, "a.csv", SHA_A).lead_list_id
    with h.store.batch() as batch:
        batch.checkpoint(list_id, 5, {ACCEPTED: 3, DNC: 1, INVALID: 1})
    with h.store.batch() as batch:
        batch.checkpoint(list_id, 10, {ACCEPTED: 4, DUPLICATE: 1})
    resumed = h.store.open_list(spring, "a.csv", SHA_A)
    totals = {ACCEPTED: 7, DUPLICATE: 1, DNC: 1, INVALID: 1}
    assert (resumed.lead_list_id, resumed.rows_done, resumed.complete) == (list_id, 10, False)
    assert dict(resumed.counts) == totals
    done = h.store.finish(list_id, NOW)
    assert (done.rows_done, dict(done.counts), done.complete) == (10, totals, True)
    assert h.store.open_list(spring, "a.csv", SHA_A).complete


def test_a_batch_that_raises_leaves_nothing_behind(h: Harness) -> None:
    spring = h.campaign("spring")
    list_id = h.store.open_list(spring, "a.csv", SHA_A).lead_list_id
    with h.store.batch() as batch:
        batch.insert_new(spring, list_id, [cand(2, "13800138000")])
        batch.checkpoint(list_id, 2, {ACCEPTED: 1})
    with pytest.raises(KeyboardInterrupt), h.store.batch() as batch:
        batch.insert_new(spring, list_id, [cand(3, "13800138001")])
        batch.checkpoint(list_id, 3, {ACCEPTED: 1})
        raise KeyboardInterrupt
    assert h.phones(spring) == ["+8613800138000"]
    after = h.store.open_list(spring, "a.csv", SHA_A)
    assert (after.rows_done, after.counts[ACCEPTED]) == (2, 1)


def test_a_file_opened_again_gets_a_new_list_once_its_newest_is_complete(h: Harness) -> None:
    spring = h.campaign("spring")
    first = h.store.open_list(spring, "a.csv", SHA_A)
    # An unfinished list is resumed, even when asked for a new one.
    assert h.store.open_list(spring, "b.csv", SHA_A, again=True).lead_list_id == first.lead_list_id
    with h.store.batch() as batch:
        batch.checkpoint(first.lead_list_id, 3, {INVALID: 2})
    h.store.finish(first.lead_list_id, NOW)
    earlier = h.store.open_list(spring, "b.csv", SHA_A)
    assert (earlier.lead_list_id, earlier.complete, earlier.file_name) == (
        first.lead_list_id, True, "a.csv"
    )  # fmt: skip
    second = h.store.open_list(spring, "b.csv", SHA_A, again=True)
    assert second.lead_list_id != first.lead_list_id
    assert (second.rows_done, second.complete, second.file_name) == (0, False, "b.csv")
    assert h.store.open_list(spring, "c.csv", SHA_A).lead_list_id == second.lead_list_id
