"""The `RecordingStorage` contract (`dialer.recordings.ports`): `MemoryRecordingStorage` and
`LocalRecordingStorage` keep a call's recording whole, replace it, and purge by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialer.recordings.adapters import LocalRecordingStorage
from dialer.recordings.fakes import MemoryRecordingStorage
from dialer.recordings.ports import RecordingStorage
from tests.conftest import Backend

PORT = "recording_storage"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
A = "5df43cdc-5db9-4117-a6a3-2d7a29dcd516"
B = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def storage(backend: Backend, tmp_path: Path) -> RecordingStorage:
    return MemoryRecordingStorage() if backend.is_fake else LocalRecordingStorage(tmp_path / "r")


def test_a_recording_is_kept_whole_and_replaced(storage: RecordingStorage) -> None:
    assert storage.get(A) is None and storage.read(A) is None
    stored = storage.put(A, "wav", b"RIFF\x00\x01", T0)
    assert (stored.call_uuid, stored.file_format, stored.size) == (A, "wav", 6)
    found = storage.get(A)
    assert found is not None and (found.file_format, found.size) == ("wav", 6)
    assert found.stored_at == T0
    assert storage.read(A) == b"RIFF\x00\x01"
    storage.put(A, "mp3", b"ID3", T0)
    again = storage.get(A)
    assert again is not None and again.file_format == "mp3" and storage.read(A) == b"ID3"


def test_purge_deletes_what_is_older(storage: RecordingStorage) -> None:
    storage.put(A, "wav", b"old", T0 - timedelta(days=91))
    storage.put(B, "wav", b"new", T0)
    assert storage.purge(T0 - timedelta(days=90)) == 1
    assert storage.get(A) is None and storage.read(B) == b"new"
    assert storage.purge(T0 - timedelta(days=90)) == 0
