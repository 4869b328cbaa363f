"""The simulator's per-call journal: appended as calls start and end, read back with the last
line of each call winning; a line torn by a kill is skipped."""

from __future__ import annotations

from pathlib import Path

from dialer.sim.records import CallRecord, Records, read_journal


def test_the_journal_holds_each_call_as_last_written(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    records = Records()
    records.journal_to(path)
    first = CallRecord("u1", "cheap_cn", "13700000001", 10.0)
    records.add(first)
    records.add(CallRecord("u2", "cheap_cn", "13700000002", 11.0))
    first.answered_s, first.hangup_s, first.hangup_cause = 12.0, 20.0, "NORMAL_CLEARING"
    records.note(first)
    # what a kill -9 leaves: the lines written so far, already in the file
    read = {r.uuid: r for r in read_journal(path)}
    assert list(read) == ["u1", "u2"]
    assert (read["u1"].hangup_s, read["u1"].hangup_cause) == (20.0, "NORMAL_CLEARING")
    assert read["u2"].hangup_s is None
    with path.open("a", encoding="utf-8") as torn:
        torn.write('{"uuid": "u3", "gatew')
    assert [r.uuid for r in read_journal(path)] == ["u1", "u2"]
    records.close_journal()
