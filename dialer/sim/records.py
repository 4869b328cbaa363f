"""Ground truth: what really happened to every originated customer call.

Times are simulated epoch seconds (None when the moment never came). ``abandoned`` is True
for a customer who answered (a person, not a machine), was sent to a queue and was never
bridged to an agent; ``answer_to_agent_s`` lets a test apply a stricter rule (e.g. "not
connected within 2 s").
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO

__all__ = ["CallRecord", "Records", "read_journal"]


@dataclass
class CallRecord:
    """One originate attempt on the simulated switch."""

    uuid: str
    gateway: str
    number: str
    created_s: float
    planned_outcome: str = ""
    machine: bool = False
    refused: str = ""
    progress_s: float | None = None
    answered_s: float | None = None
    queue: str = ""
    queue_joined_s: float | None = None
    queue_left_s: float | None = None
    cc_cancel_reason: str = ""
    agent: str = ""
    agent_uuid: str = ""
    bridged_s: float | None = None
    hangup_s: float | None = None
    hangup_cause: str = ""
    originate_reply: str = ""

    @property
    def abandoned(self) -> bool:
        """Answered by a person, queued, never connected to an agent."""
        return (
            self.answered_s is not None
            and not self.machine
            and bool(self.queue)
            and self.bridged_s is None
        )

    @property
    def answer_to_agent_s(self) -> float | None:
        """Seconds from answer to the agent bridge (None if never bridged)."""
        if self.answered_s is None or self.bridged_s is None:
            return None
        return self.bridged_s - self.answered_s

    def failed(self, cause: str, at_s: float) -> None:
        """The originate failed with ``cause`` at simulated time ``at_s``."""
        self.hangup_cause = cause
        self.hangup_s = at_s
        self.originate_reply = f"-ERR {cause}"

    def to_dict(self) -> dict[str, object]:
        """Plain dict including the derived ``abandoned`` flag."""
        data = asdict(self)
        data["abandoned"] = self.abandoned
        data["answer_to_agent_s"] = self.answer_to_agent_s
        return data


class Records:
    """Call records by customer uuid, in creation order."""

    def __init__(self) -> None:
        self._by_uuid: dict[str, CallRecord] = {}
        self._journal: IO[str] | None = None

    def journal_to(self, path: Path) -> None:
        """Append every record to ``path`` (JSON lines) when it is created, answered, bridged
        and when it ends,
        each line flushed to the OS at once: the file survives ``kill -9`` of the process
        (`read_journal` reads it back; a later line of a uuid supersedes an earlier one)."""
        self._journal = path.open("a", encoding="utf-8")

    def add(self, record: CallRecord) -> None:
        """Register a new attempt."""
        self._by_uuid[record.uuid] = record
        self.note(record)

    def note(self, record: CallRecord) -> None:
        """Append ``record`` as it is now to the journal, if one is kept."""
        if self._journal is not None:
            self._journal.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            self._journal.flush()

    def close_journal(self) -> None:
        """Append the records still open, then close the journal."""
        if self._journal is None:
            return
        for record in self._by_uuid.values():
            if record.hangup_s is None:
                self.note(record)
        self._journal.close()
        self._journal = None

    def get(self, uuid: str) -> CallRecord | None:
        """The record of ``uuid`` if it is a customer call."""
        return self._by_uuid.get(uuid)

    def all(self) -> list[CallRecord]:
        """Every record, oldest first."""
        return list(self._by_uuid.values())

    def dump(self, path: Path) -> None:
        """Write ``.json`` (list of objects) or ``.csv`` depending on the suffix."""
        rows = [r.to_dict() for r in self.all()]
        if path.suffix == ".json":
            path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
            return
        names = [f.name for f in fields(CallRecord)] + ["abandoned", "answer_to_agent_s"]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)


def read_journal(path: Path) -> list[CallRecord]:
    """The records of a journal (`Records.journal_to`), the last line of each uuid, in order of
    first appearance; a torn last line (the writer killed mid-line) is skipped."""
    names = {f.name for f in fields(CallRecord)}
    by_uuid: dict[str, CallRecord] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        by_uuid[data["uuid"]] = CallRecord(**{k: v for k, v in data.items() if k in names})
    return list(by_uuid.values())
