"""Lead files that must be refused whole, or read as their author meant: CSV quotes left open,
XLSX sheets chosen by name or index, files that only claim to be XLSX, formula cells, and
sheets whose size would exhaust memory (checked from the zip before the sheet is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.importer.classify import RowOutcome
from campaigns.importer.service import ImportDeps, ImportError_, ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.models import Lead, LeadList
from dialer.clock import SYSTEM_CLOCK

pytestmark = pytest.mark.usefixtures("campaign")


@pytest.fixture
def campaign(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        service.create_campaign(session, service.parse_spec(name="spring", queue_name="sales"))
    return "spring"


@pytest.fixture
def deps(sessions: sessionmaker[Session]) -> ImportDeps:
    return import_deps(sessions, SYSTEM_CLOCK)


def _nothing_written(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        lists = session.scalar(select(func.count()).select_from(LeadList))
        leads = session.scalar(select(func.count()).select_from(Lead))
    return lists == 0 and leads == 0


def _lead_file(rows: int) -> list[str]:
    return ["phone,name"] + [f"1380013{i:04d},name {i}" for i in range(rows)]


def test_a_quote_left_open_in_row_2_refuses_the_file(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    lines = _lead_file(1001)
    lines[1] = '13800130000,"Zhang'  # spreadsheet row 2: its quote is never closed
    src = tmp_path / "open.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportError_, match=r"row 2 \(line 2\): a quote opened there is never"):
        import_file(deps, src, ImportOptions(campaign="spring"))
    assert _nothing_written(sessions)


def test_a_quote_closed_pages_later_refuses_the_file_past_the_first_batch(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    lines = _lead_file(200)
    lines[150] = '13800130149,"Li'  # row 151
    lines[190] = '13800130189,Wang"'
    src = tmp_path / "runon.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = ImportOptions(campaign="spring", batch_rows=10)
    with pytest.raises(ImportError_, match=r"row 151 \(line 151\): a quoted field runs on to"):
        import_file(deps, src, options)
    assert _nothing_written(sessions)


def test_quoted_fields_over_a_few_lines_are_kept(tmp_path: Path, deps: ImportDeps) -> None:
    src = tmp_path / "notes.csv"
    note = "\n".join(f"line {i}" for i in range(10))
    src.write_text(f'phone,note\n13800138000,"{note}"\n13800138001,x\n', encoding="utf-8")
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts[RowOutcome.ACCEPTED] == 2
