"""`MemoryLeadStore`: the in-memory twin of the lead import's `LeadStore`
(`campaigns.importer.ports`), for unit tests; ``tests/contracts/test_contract_lead_store.py``
holds it to the SQL adapter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.importer.classify import LeadCandidate, Reject, RowOutcome, duplicate
from campaigns.importer.ports import ImportTarget, LeadBatch, LeadListProgress


@dataclass(frozen=True, slots=True)
class MemoryDncEntry:
    """An exact number or, with ``is_prefix``, a ``+``-prefix; global when ``campaign_id``
    is None; in force until ``expires_at`` (None: for good)."""

    number: str
    is_prefix: bool = False
    campaign_id: int | None = None
    expires_at: datetime | None = None

    def in_force(self, campaign_id: int, now: datetime) -> bool:
        mine = self.campaign_id is None or self.campaign_id == campaign_id
        return mine and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class MemoryImportedLead:
    campaign_id: int
    lead_list_id: int
    candidate: LeadCandidate


@dataclass(slots=True)
class MemoryLeadList:
    campaign_id: int
    name: str
    sha256: str
    rows_done: int = 0
    counts: Counter[RowOutcome] = field(default_factory=Counter)
    finished_at: datetime | None = None


@dataclass
class MemoryLeadStore:
    """In-memory `LeadStore`: ``leads`` by (campaign id, E.164 number); a batch's writes
    are applied when its block ends and dropped when it raises."""

    campaigns: dict[str, ImportTarget] = field(default_factory=dict)
    lists: dict[int, MemoryLeadList] = field(default_factory=dict)
    leads: dict[tuple[int, str], MemoryImportedLead] = field(default_factory=dict)
    dnc: list[MemoryDncEntry] = field(default_factory=list)

    def add_campaign(self, name: str, default_region: str = "CN") -> int:
        campaign_id = len(self.campaigns) + 1
        self.campaigns[name] = ImportTarget(campaign_id, default_region)
        return campaign_id

    def find_campaign(self, name: str) -> ImportTarget | None:
        return self.campaigns.get(name)

    def open_list(
        self, campaign_id: int, file_name: str, sha256: str, again: bool = False
    ) -> LeadListProgress:
        for list_id, lead_list in reversed(self.lists.items()):
            if (lead_list.campaign_id, lead_list.sha256) == (campaign_id, sha256):
                if again and lead_list.finished_at is not None:
                    break
                return self._progress(list_id)
        list_id = len(self.lists) + 1
        self.lists[list_id] = MemoryLeadList(campaign_id, file_name, sha256)
        return self._progress(list_id)

    def dnc_prefixes(self, campaign_id: int, now: datetime) -> list[str]:
        return [e.number for e in self.dnc if e.is_prefix and e.in_force(campaign_id, now)]

    @contextmanager
    def batch(self) -> Iterator[LeadBatch]:
        staged = _MemoryBatch(self)
        yield staged
        self.leads.update(staged.leads)
        for list_id, (rows_done, counts) in staged.checkpoints.items():
            lead_list = self.lists[list_id]
            lead_list.rows_done = rows_done
            lead_list.counts.update(counts)

    def finish(self, lead_list_id: int, at: datetime) -> LeadListProgress:
        self.lists[lead_list_id].finished_at = at
        return self._progress(lead_list_id)

    def _progress(self, list_id: int) -> LeadListProgress:
        lead_list = self.lists[list_id]
        counts = {outcome: lead_list.counts[outcome] for outcome in RowOutcome}
        return LeadListProgress(
            list_id, lead_list.rows_done, counts, lead_list.finished_at is not None, lead_list.name
        )


class _MemoryBatch:
    """A batch's writes, seen by its own reads, kept apart until the store applies them."""

    def __init__(self, store: MemoryLeadStore) -> None:
        self._store = store
        self.leads: dict[tuple[int, str], MemoryImportedLead] = {}
        self.checkpoints: dict[int, tuple[int, Counter[RowOutcome]]] = {}

    def _lead(self, campaign_id: int, e164: str) -> MemoryImportedLead | None:
        key = (campaign_id, e164)
        return self.leads.get(key) or self._store.leads.get(key)

    def dnc_exact(self, campaign_id: int, numbers: list[str], now: datetime) -> frozenset[str]:
        listed = {
            e.number for e in self._store.dnc if not e.is_prefix and e.in_force(campaign_id, now)
        }
        return frozenset(listed.intersection(numbers))

    def in_other_campaigns(self, campaign_id: int, numbers: list[str]) -> dict[str, int]:
        wanted = set(numbers)
        return {
            e164: other
            for other, e164 in [*self._store.leads, *self.leads]
            if other != campaign_id and e164 in wanted
        }

    def insert_new(
        self, campaign_id: int, lead_list_id: int, candidates: list[LeadCandidate]
    ) -> list[Reject]:
        rejects = []
        for cand in candidates:
            found = self._lead(campaign_id, cand.number.e164)
            if found is None:
                self.leads[(campaign_id, cand.number.e164)] = MemoryImportedLead(
                    campaign_id, lead_list_id, cand
                )
            elif found.lead_list_id == lead_list_id:
                rejects.append(duplicate(cand, found.candidate.row_no))
            else:
                rejects.append(duplicate(cand, None))
        return rejects

    def checkpoint(
        self, lead_list_id: int, rows_done: int, counts: Mapping[RowOutcome, int]
    ) -> None:
        _, staged = self.checkpoints.get(lead_list_id, (0, Counter()))
        self.checkpoints[lead_list_id] = (rows_done, staged + Counter(counts))
