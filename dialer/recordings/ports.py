"""Seams of the recordings context: where recordings are kept.

`RecordingStorage` has an in-memory fake (`dialer.recordings.fakes`) and a local-directory
adapter (`dialer.recordings.adapters`); its contract test is
``tests/contracts/test_contract_recording_storage.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredRecording:
    """One call's recording: ``file_format`` its extension (``wav``, ``mp3``), ``size`` in
    bytes, ``stored_at`` when it was received."""

    call_uuid: str
    file_format: str
    size: int
    stored_at: datetime


class RecordingStorage(Protocol):
    def put(self, call_uuid: str, file_format: str, data: bytes, at: datetime) -> StoredRecording:
        """Keep ``data`` as the recording of ``call_uuid`` (replacing one kept before)."""
        ...

    def get(self, call_uuid: str) -> StoredRecording | None: ...

    def read(self, call_uuid: str) -> bytes | None:
        """The recording's bytes, or None when there is none."""
        ...

    def purge(self, older_than: datetime) -> int:
        """Delete the recordings stored before ``older_than``; how many were."""
        ...
