"""Lead files that must be refused whole, or read as their author meant: CSV quotes left open,
XLSX sheets chosen by name or index, files that only claim to be XLSX, formula cells, and
sheets whose size would exhaust memory (checked from the zip before the sheet is loaded)."""

from __future__ import annotations

import csv
import resource
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.importer.classify import RowOutcome
from campaigns.importer.service import ImportDeps, ImportError_, ImportOptions, import_file
from campaigns.importer.sources import SourceError, open_table
from campaigns.importer.wiring import import_deps
from campaigns.importer.xlsx_check import SheetLimits, long_run
from campaigns.models import Lead, LeadList
from dialer.clock import SYSTEM_CLOCK
from tests.support.xlsx import Repeated, cell, rows, shared, write_xlsx


@pytest.fixture
def campaign(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        service.create_campaign(session, service.parse_spec(name="spring", queue_name="sales"))
    return "spring"


@pytest.fixture
def deps(sessions: sessionmaker[Session], campaign: str) -> ImportDeps:
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


def _phones(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Lead.phone_e164)))


def _reasons(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {row[0]: row[3] for row in list(csv.reader(f))[1:]}


def test_a_sheet_is_chosen_by_name_or_index(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    book = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "Notes": rows({1: [cell("A1", "nothing to dial here")]}),
            "Leads": rows({1: [cell("A1", "phone")], 2: [cell("A2", "13800138000")]}),
            "More": rows({1: [cell("A1", "手机号")], 2: [cell("A2", "13800138001")]}),
        },
    )
    assert import_file(deps, book, ImportOptions("spring", sheet="leads")).rows == 1
    again = import_file(deps, book, ImportOptions("spring", sheet="3", force=True))
    assert again.counts[RowOutcome.ACCEPTED] == 1
    assert _phones(sessions) == ["+8613800138000", "+8613800138001"]
    with pytest.raises(ImportError_, match=r"--sheet 'Sales': no such sheet; the sheets are"):
        import_file(deps, book, ImportOptions("spring", sheet="Sales", force=True))
    with pytest.raises(ImportError_, match="no phone column"):  # the first sheet by default
        import_file(deps, book, ImportOptions("spring", force=True))


def test_no_phone_column_on_the_first_sheet_names_the_workbooks_other_sheets(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    book = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "Notes": rows({1: [cell("A1", "nothing to dial here")]}),
            "Leads": rows({1: [cell("A1", "phone")], 2: [cell("A2", "13800138000")]}),
        },
    )
    with pytest.raises(ImportError_) as refused:
        import_file(deps, book, ImportOptions("spring"))
    assert str(refused.value).endswith(
        "; sheet 'Notes' was read, of ['Notes', 'Leads']: pick the sheet with --sheet"
    )
    with pytest.raises(ImportError_, match=r"of \['Notes', 'Leads'\]: pick the sheet"):
        import_file(deps, book, ImportOptions("spring", phone_column="mobile"))
    with pytest.raises(ImportError_) as named:  # the sheet was chosen: no hint
        import_file(deps, book, ImportOptions("spring", sheet="Notes"))
    assert "--sheet" not in str(named.value)
    single = write_xlsx(tmp_path / "one.xlsx", {"Notes": rows({1: [cell("A1", "nothing")]})})
    with pytest.raises(ImportError_) as alone:
        import_file(deps, single, ImportOptions("spring"))
    assert "--sheet" not in str(alone.value)
    assert _nothing_written(sessions)


def test_a_text_file_named_xlsx_is_not_an_xlsx_file(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    src = tmp_path / "leads.xlsx"
    src.write_text("phone\n13800138000\n", encoding="utf-8")
    with pytest.raises(ImportError_, match=r"leads.xlsx: not an XLSX file \(it starts with"):
        import_file(deps, src, ImportOptions(campaign="spring"))
    assert _nothing_written(sessions)


def test_formula_cells_use_their_saved_value_or_say_they_have_none(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    book = write_xlsx(
        tmp_path / "formulas.xlsx",
        {
            "Sheet1": rows(
                {
                    1: [cell("A1", "phone"), cell("B1", "name")],
                    2: [cell("A2", "", formula='TEXT(C2,"0")'), cell("B2", "no value")],
                    3: [cell("A3", 13800138001, formula="C3+0"), cell("B3", "saved")],
                    4: [cell("A4", "13800138002"), cell("B4", "", formula="A4&B1")],
                }
            )
        },
    )
    summary = import_file(deps, book, ImportOptions(campaign="spring"))
    assert summary.counts == {RowOutcome.ACCEPTED: 2, RowOutcome.INVALID: 1}
    assert _phones(sessions) == ["+8613800138001", "+8613800138002"]
    assert _reasons(tmp_path / "formulas.xlsx.rejects.csv") == {
        "2": 'formula cell: =TEXT(C2,"0") has no saved value; open and save the file in a '
        "spreadsheet, or paste the column as values"
    }


def test_a_cell_at_xfd1048576_is_refused_before_the_sheet_is_loaded(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    book = write_xlsx(
        tmp_path / "far.xlsx",
        {
            "Sheet1": rows(
                {
                    1: [cell("A1", "phone")],
                    2: [cell("A2", "13800138000")],
                    1048576: [cell("XFD1048576", "x")],
                }
            )
        },
    )
    assert book.stat().st_size < 2000
    with pytest.raises(ImportError_, match=r"sheet 'Sheet1': its cells reach XFD1048576 "):
        import_file(deps, book, ImportOptions(campaign="spring"))
    assert _nothing_written(sessions)


def test_a_dimension_past_the_limit_is_refused(tmp_path: Path, deps: ImportDeps) -> None:
    book = write_xlsx(
        tmp_path / "dim.xlsx",
        {"Sheet1": rows({1: [cell("A1", "phone")], 2: [cell("A2", "13800138000")]})},
        dimension="A1:ZZ1048576",
    )
    with pytest.raises(ImportError_, match=r"its dimension is A1:ZZ1048576 \(736,100,352 cells"):
        import_file(deps, book, ImportOptions(campaign="spring"))


@pytest.mark.parametrize("where", ["inline", "shared"])
def test_a_cell_over_the_size_bound_is_named(tmp_path: Path, where: str) -> None:
    big = "x" * 5000
    cells = {1: [cell("A1", "phone"), cell("B1", "note")], 2: [cell("A2", "13800138000")]}
    if where == "inline":
        cells[3] = [cell("A3", "13800138001"), cell("B3", big)]
        book = write_xlsx(tmp_path / "big.xlsx", {"Sheet1": rows(cells)})
    else:
        cells[3] = [cell("A3", "13800138001"), shared("B3", 1)]
        book = write_xlsx(tmp_path / "big.xlsx", {"Sheet1": rows(cells)}, ["short", big])
    limits = SheetLimits(max_cell_bytes=4096)
    with pytest.raises(SourceError, match="cell B3 holds more than 4,096 bytes"):
        open_table(book, limits=limits)
    open_table(book, limits=SheetLimits(max_cell_bytes=8192))


def test_a_400_mb_cell_in_a_small_file_is_refused_at_the_default_bound(tmp_path: Path) -> None:
    book = tmp_path / "bomb.xlsx"
    write_xlsx(
        book,
        {"Sheet1": rows({1: [cell("A1", "phone"), cell("B1", "note")], 2: [shared("A2", 0)],
                         3: [cell("A3", "13800138001"), shared("B3", 1)]})},
        ["13800138000", Repeated("x", 400 << 20)],
    )  # fmt: skip
    assert book.stat().st_size < 2 << 20
    started = time.perf_counter()
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SourceError, match="cell B3 holds more than 131,072 bytes"):
        open_table(book)
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib < 64 << 10


@pytest.mark.parametrize(
    "content",
    [
        b'\xef\xbb\xbf"phone","name"\r\n"13800138000","a\r\nb"\r\n13800138001,x',
        '电话,姓名\n13800138000,"张\n三"\n13800138001,李四\n'.encode("gbk"),
        b"phone,note\n13800138000," + b"y" * (3 << 20) + b"\n13800138001,x\n",
    ],
    ids=["bom-crlf-no-final-newline", "gbk", "3-mib-line"],
)
def test_well_formed_files_pass_the_quote_check(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "ok.csv"
    src.write_bytes(content)
    header, rows_after = open_table(src)
    assert len(header) == 2 and len(list(rows_after)) == 2


@given(
    st.lists(st.sampled_from([b"<", b"x", b"xxxxxxx", b"x" * 40]), max_size=60),
    st.integers(min_value=1, max_value=90),
)
def test_long_run_finds_a_run_over_the_bound_exactly_when_there_is_one(
    parts: list[bytes], bound: int
) -> None:
    block = b"".join(parts)
    longest = max(map(len, block.split(b"<")))
    found = long_run(block, bound)
    assert (found is not None) == (longest > bound)
    if found is not None:
        start, length = found
        assert length > bound and b"<" not in block[start : start + length]


def test_shared_strings_over_their_bound_are_refused(tmp_path: Path) -> None:
    book = write_xlsx(
        tmp_path / "many.xlsx",
        {"Sheet1": rows({1: [cell("A1", "phone")], 2: [shared("A2", 0)]})},
        [f"1380013{i:04d}" for i in range(2000)],
    )
    with pytest.raises(SourceError, match="the shared strings are over 10,000 bytes"):
        open_table(book, limits=SheetLimits(max_shared_bytes=10_000))
    header, rows_after = open_table(book)
    assert header == ["phone"] and len(list(rows_after)) == 1


def test_a_file_imported_again_with_force_keeps_the_earlier_lists_rejects(
    tmp_path: Path, deps: ImportDeps
) -> None:
    src = tmp_path / "leads.csv"
    src.write_text("phone,name\n13800138000,a\nnot a number,b\n", encoding="utf-8")
    first = import_file(deps, src, ImportOptions(campaign="spring"))
    assert first.rejects_path is not None
    earlier = first.rejects_path.read_text(encoding="utf-8-sig")
    again = import_file(deps, src, ImportOptions(campaign="spring", force=True))
    assert again.rejects_path is not None and again.rejects_path != first.rejects_path
    assert first.rejects_path.read_text(encoding="utf-8-sig") == earlier
    assert "not a number" in again.rejects_path.read_text(encoding="utf-8-sig")
