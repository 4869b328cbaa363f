"""The rejects file: one CSV line per row not imported (row number, original value, outcome,
reason), safe to open in a spreadsheet.

Written in step with the import's checkpoint: on resume, lines past the checkpoint (written
before a crash but never committed) are dropped first, so the file ends as one clean run's.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import TracebackType

from campaigns.importer.classify import Reject

HEADER = ("row", "value", "outcome", "reason")
# A cell starting with one of these is run as a formula by spreadsheets.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "|")


def neutralize(cell: str) -> str:
    """Make ``cell`` inert in a spreadsheet: a leading formula character is quoted away."""
    return "'" + cell if cell.startswith(_FORMULA_LEADS) else cell


class RejectsFile:
    def __init__(self, path: Path, resume_after_row: int) -> None:
        self.path = path
        fresh = resume_after_row == 0 or not path.exists()
        if not fresh:
            self._truncate_after(resume_after_row)
        self._handle = path.open(
            "w" if fresh else "a", newline="", encoding="utf-8-sig" if fresh else "utf-8"
        )
        self._writer = csv.writer(self._handle)
        if fresh:
            self._writer.writerow(HEADER)

    def _truncate_after(self, last_row: int) -> None:
        kept: list[list[str]] = []
        with self.path.open(newline="", encoding="utf-8-sig") as old:
            for line in csv.reader(old):
                if line and (
                    line[0] == HEADER[0] or (line[0].isdigit() and int(line[0]) <= last_row)
                ):
                    kept.append(line)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8-sig") as new:
            csv.writer(new).writerows(kept)
        os.replace(tmp, self.path)

    def write(self, rejects: list[Reject]) -> None:
        for r in sorted(rejects, key=lambda r: r.row_no):
            self._writer.writerow(
                (r.row_no, neutralize(r.raw), r.outcome.value, neutralize(r.reason))
            )

    def sync(self) -> None:
        """Make written lines durable; called before the batch's checkpoint commits."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
