"""Uploaded lead files before their import (`campaigns.importer.uploads`), over the lead
store's in-memory fake: an upload is copied in chunks and cut off past its limit; a file the
import would refuse leaves nothing behind; the same content is not queued twice while its
import may run, and is queued again once that import failed; `import_file` then fills the
list the upload opened."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from campaigns.importer.classify import RowOutcome
from campaigns.importer.fakes import MemoryLeadStore
from campaigns.importer.service import ImportDeps, ImportError_, ImportOptions, import_file
from campaigns.importer.uploads import (
    CHUNK_BYTES,
    AcceptedUpload,
    UploadInFlight,
    UploadTooLarge,
    accept_upload,
    stage_upload,
)
from tests.support.clock import FakeClock

CSV = b"phone\n13800138000\n13800138001\n"


class CountingReader(io.BytesIO):
    """A source that records the size of every read asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_an_upload_is_copied_a_chunk_at_a_time_and_cut_off_past_its_limit(
    tmp_path: Path,
) -> None:
    data = b"x" * (CHUNK_BYTES * 2 + 10)
    source = CountingReader(data)
    staged = stage_upload(source, tmp_path, max_bytes=len(data))
    assert staged.path.read_bytes() == data and staged.size_bytes == len(data)
    assert set(source.asked) == {CHUNK_BYTES}
    with pytest.raises(UploadTooLarge, match="over the limit of 2,097,162 bytes"):
        stage_upload(io.BytesIO(data + b"!"), tmp_path, max_bytes=len(data))
    assert _files(tmp_path) == [staged.path.name]


def test_a_refused_file_leaves_nothing_and_names_the_file_not_the_staging_path(
    tmp_path: Path,
) -> None:
    store = MemoryLeadStore()
    store.add_campaign("spring")
    staged = stage_upload(io.BytesIO(b'phone\n"13800138000\n'), tmp_path, 1 << 20)
    with pytest.raises(ImportError_, match=r"^mine\.csv: row 2") as refused:
        accept_upload(store, staged, "mine.csv", ImportOptions("spring"), tmp_path, lambda _: True)
    assert "staging" not in str(refused.value)
    assert _files(tmp_path) == [] and store.lists == {}


def test_the_same_content_is_queued_once_while_its_import_may_run_and_again_after_it_failed(
    tmp_path: Path,
) -> None:
    store = MemoryLeadStore()
    store.add_campaign("spring")
    options = ImportOptions("spring")

    def accept(in_flight: bool) -> AcceptedUpload:
        staged = stage_upload(io.BytesIO(CSV), tmp_path, 1 << 20)
        return accept_upload(store, staged, "a.csv", options, tmp_path, lambda _: in_flight)

    first = accept(in_flight=True)
    assert first.queued and first.path.read_bytes() == CSV
    with pytest.raises(UploadInFlight, match="is being imported"):
        accept(in_flight=True)
    retried = accept(in_flight=False)
    assert retried.queued
    assert retried.progress.lead_list_id == first.progress.lead_list_id
    assert _files(tmp_path) == [first.path.name]

    summary = import_file(ImportDeps(store, FakeClock()), first.path, options)
    assert summary.lead_list_id == first.progress.lead_list_id
    assert summary.counts[RowOutcome.ACCEPTED] == 2
    again = accept(in_flight=True)
    assert not again.queued and again.progress.complete
