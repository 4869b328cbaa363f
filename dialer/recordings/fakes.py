"""In-memory `RecordingStorage`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.recordings.ports import StoredRecording


@dataclass
class MemoryRecordingStorage:
    kept: dict[str, tuple[StoredRecording, bytes]] = field(default_factory=dict)

    def put(self, call_uuid: str, file_format: str, data: bytes, at: datetime) -> StoredRecording:
        stored = StoredRecording(call_uuid, file_format, len(data), at)
        self.kept[call_uuid] = (stored, bytes(data))
        return stored

    def get(self, call_uuid: str) -> StoredRecording | None:
        found = self.kept.get(call_uuid)
        return found[0] if found else None

    def read(self, call_uuid: str) -> bytes | None:
        found = self.kept.get(call_uuid)
        return found[1] if found else None

    def purge(self, older_than: datetime) -> int:
        old = [u for u, (rec, _) in self.kept.items() if rec.stored_at < older_than]
        for u in old:
            del self.kept[u]
        return len(old)
