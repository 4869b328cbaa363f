"""The seam of the lead import: the store it reads campaigns and DNC entries from and writes
leads and its checkpoint through, and the plain data that crosses it.

`LeadStore` has a real adapter in `campaigns.importer.adapters` (SQL) and an in-memory twin
in `campaigns.importer.fakes`; ``tests/contracts/test_contract_lead_store.py`` holds both to
the same assertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from campaigns.importer.classify import LeadCandidate, Reject, RowOutcome


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """The campaign a file is imported into; numbers without a country code are read in
    ``default_region`` (ISO 3166 alpha-2) unless the import names another."""

    campaign_id: int
    default_region: str


@dataclass(frozen=True, slots=True)
class LeadListProgress:
    """One import of a file into one campaign: ``rows_done`` is the checkpoint (the last data
    row whose outcome is committed), ``counts`` the committed rows by outcome; ``complete``
    once the whole file went in. ``file_name`` is the name the list was created under."""

    lead_list_id: int
    rows_done: int = 0
    counts: Mapping[RowOutcome, int] = field(default_factory=dict)
    complete: bool = False
    file_name: str = ""


class LeadBatch(Protocol):
    """One batch of an import: everything in it commits together, or nothing does."""

    def dnc_exact(self, campaign_id: int, numbers: list[str], now: datetime) -> frozenset[str]:
        """The numbers of ``numbers`` on an exact DNC entry in force at ``now`` (global or
        the campaign's own)."""
        ...

    def in_other_campaigns(self, campaign_id: int, numbers: list[str]) -> dict[str, int]:
        """The numbers of ``numbers`` already leads of another campaign, with its id."""
        ...

    def insert_new(
        self, campaign_id: int, lead_list_id: int, candidates: list[LeadCandidate]
    ) -> list[Reject]:
        """Insert the candidates whose number the campaign lacks (numbers distinct within
        ``candidates``); the others come back as duplicates, saying which row of this list
        they repeat, or that the number is a lead of the campaign from another list."""
        ...

    def checkpoint(
        self, lead_list_id: int, rows_done: int, counts: Mapping[RowOutcome, int]
    ) -> None:
        """Add ``counts`` to the list's and move its checkpoint to ``rows_done``."""
        ...


class LeadStore(Protocol):
    def find_campaign(self, name: str) -> ImportTarget | None: ...

    def open_list(
        self, campaign_id: int, file_name: str, sha256: str, again: bool = False
    ) -> LeadListProgress:
        """The newest list of the file with content hash ``sha256`` in the campaign, whatever
        its name; a new one (named ``file_name``, nothing done) on the file's first import,
        or with ``again`` when the newest is complete (an unfinished one is resumed)."""
        ...

    def dnc_prefixes(self, campaign_id: int, now: datetime) -> list[str]:
        """The DNC prefixes in force at ``now`` (global or the campaign's own)."""
        ...

    def batch(self) -> AbstractContextManager[LeadBatch]:
        """A batch's transaction: committed when the block ends, rolled back when it raises
        (a killed import resumes after the last committed checkpoint)."""
        ...

    def finish(self, lead_list_id: int, at: datetime) -> LeadListProgress:
        """Mark the list complete (finished ``at``); its final progress."""
        ...
