"""`RecordingStorage` in a local directory: ``<root>/<uuid>.<format>``, its modification time
the time it was stored (set from the caller's clock, so purging by age is the clock's)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from dialer.recordings.ports import StoredRecording


class LocalRecordingStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _files(self, call_uuid: str) -> list[Path]:
        if not self._root.is_dir():
            return []
        return sorted(self._root.glob(f"{call_uuid}.*"))

    def put(self, call_uuid: str, file_format: str, data: bytes, at: datetime) -> StoredRecording:
        self._root.mkdir(parents=True, exist_ok=True)
        for old in self._files(call_uuid):
            old.unlink(missing_ok=True)
        path = self._root / f"{call_uuid}.{file_format}"
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        stamp = at.timestamp()
        os.utime(partial, (stamp, stamp))
        partial.replace(path)  # a reader never sees half a file
        return StoredRecording(call_uuid, file_format, len(data), at)

    def _stored(self, path: Path) -> StoredRecording:
        stat = path.stat()
        at = datetime.fromtimestamp(stat.st_mtime, UTC)
        return StoredRecording(path.stem, path.suffix.lstrip("."), stat.st_size, at)

    def get(self, call_uuid: str) -> StoredRecording | None:
        files = [f for f in self._files(call_uuid) if not f.name.endswith(".part")]
        return self._stored(files[0]) if files else None

    def read(self, call_uuid: str) -> bytes | None:
        found = self.get(call_uuid)
        if found is None:
            return None
        return (self._root / f"{call_uuid}.{found.file_format}").read_bytes()

    def purge(self, older_than: datetime) -> int:
        if not self._root.is_dir():
            return 0
        removed = 0
        for path in self._root.iterdir():
            if path.is_file() and path.stat().st_mtime < older_than.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
        return removed
