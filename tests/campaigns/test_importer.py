from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.dnc import add_entry
from campaigns.importer.classify import RowOutcome
from campaigns.importer.service import ImportDeps, ImportError_, ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.models import Lead, LeadList, utcnow
from dialer.clock import SYSTEM_CLOCK

pytestmark = pytest.mark.usefixtures("campaign")


@pytest.fixture
def campaign(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        service.create_campaign(session, service.parse_spec(name="spring", queue_name="sales"))
        service.create_campaign(session, service.parse_spec(name="autumn", queue_name="sales"))
    return "spring"


@pytest.fixture
def deps(sessions: sessionmaker[Session]) -> ImportDeps:
    return import_deps(sessions, SYSTEM_CLOCK)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _phones(sessions: sessionmaker[Session], campaign_id: int = 1) -> list[str]:
    with sessions() as session:
        query = select(Lead.phone_e164).where(Lead.campaign_id == campaign_id)
        return sorted(session.scalars(query))


def _rejects(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


def test_every_row_ends_in_one_outcome(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    with sessions.begin() as session:
        add_entry(session, "13900000000", region="CN", now=utcnow())
        add_entry(session, "+1212", region="CN", is_prefix=True, now=utcnow())
    src = _write(
        tmp_path / "leads.csv",
        "name;手机号;city\n"
        "A;13800138000;BJ\n"
        "B;138 0013 8000;BJ\n"
        "C;12345;x\n"
        "D;+12125551234;NY\n"
        "E;13900000000;x\n"
        "F;+14155550100;SF\n"
        'G;=HYPERLINK("x");x\n',
    )
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts == {
        RowOutcome.ACCEPTED: 2,
        RowOutcome.DUPLICATE: 1,
        RowOutcome.DNC: 2,
        RowOutcome.INVALID: 2,
    }
    assert summary.rows == 7
    assert _phones(sessions) == ["+14155550100", "+8613800138000"]
    rejects = _rejects(tmp_path / "leads.csv.rejects.csv")
    assert [r[0] for r in rejects] == ["3", "4", "5", "6", "8"]
    assert rejects[1][2:] == ["invalid", "invalid number: no such number range"]
    assert rejects[4][1].startswith("'=")  # formula made inert for spreadsheets
    with sessions() as session:
        lead = session.scalars(select(Lead).where(Lead.phone_e164 == "+14155550100")).one()
        assert lead.custom_fields == {"name": "F", "city": "SF"}
        assert lead.time_zones == "America/Los_Angeles"
        assert lead.source_row == 7


def test_same_file_twice_adds_nothing(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    src = _write(tmp_path / "a.csv", "phone\n13800138000\n13800138001\n")
    first = import_file(deps, src, ImportOptions(campaign="spring"))
    again = import_file(deps, src, ImportOptions(campaign="spring"))
    assert first.counts[RowOutcome.ACCEPTED] == 2
    assert again.already_imported and again.counts == first.counts
    assert len(_phones(sessions)) == 2


def test_killed_import_resumes_to_the_clean_result(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    lines = ["phone"] + [f"1380013{i:04d}" for i in range(23)] + ["13800130000", "bad"]
    src = _write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    options = ImportOptions(campaign="spring", batch_rows=5)
    batches_seen = []

    def die_after_two_batches(n: int) -> None:
        batches_seen.append(n)
        if len(batches_seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(deps, src, options, die_after_two_batches)
    assert len(_phones(sessions)) == 10
    resumed = import_file(deps, src, options)
    assert resumed.resumed_from_row == 11

    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_src = _write(clean_dir / "big.csv", src.read_text())
    clean = import_file(deps, clean_src, ImportOptions(campaign="autumn", batch_rows=5))
    assert resumed.counts == clean.counts
    assert resumed.counts[RowOutcome.DUPLICATE] == 1
    assert _rejects(tmp_path / "big.csv.rejects.csv") == _rejects(clean_dir / "big.csv.rejects.csv")
    assert len(_phones(sessions, 1)) == len(_phones(sessions, 2)) == 23


def test_gbk_file_with_chinese_header(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    src = _write(tmp_path / "gbk.csv", "姓名,电话号码\n张三,13800138000\n李四,13800138001\n", "gbk")
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts[RowOutcome.ACCEPTED] == 2
    with sessions() as session:
        names = sorted(lead.custom_fields["姓名"] for lead in session.scalars(select(Lead)))
    assert names == ["张三", "李四"]


def test_utf8_bom_and_tabs(tmp_path: Path, deps: ImportDeps) -> None:
    src = _write(tmp_path / "bom.tsv", "\ufeffmobile\tname\n13800138000\tA\n", "utf-8")
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts[RowOutcome.ACCEPTED] == 1


def test_mixed_encodings_lose_no_line(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    src = tmp_path / "mixed.csv"
    src.write_bytes(
        "phone,name\n13800138000,张三\n".encode()
        + "13800138001,李四\n".encode("gbk")
        + "13800138002,王五\n".encode()
    )
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts[RowOutcome.ACCEPTED] == 3
    with sessions() as session:
        names = sorted(lead.custom_fields["name"] for lead in session.scalars(select(Lead)))
    assert names == ["张三", "李四", "王五"]


def test_xlsx_numeric_phone_cells_keep_their_digits(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["手机号", "score"])
    sheet.append([13800138000, 1.5])
    sheet.append([13800138001.0, 2])
    sheet.append(["+1 415 555 0100", None])
    path = tmp_path / "leads.xlsx"
    workbook.save(path)
    summary = import_file(deps, path, ImportOptions(campaign="spring"))
    assert summary.counts[RowOutcome.ACCEPTED] == 3
    assert _phones(sessions) == ["+14155550100", "+8613800138000", "+8613800138001"]


def test_headerless_file_and_phone_column_option(tmp_path: Path, deps: ImportDeps) -> None:
    src = _write(tmp_path / "nohead.csv", "A,13800138000\nB,13800138001\n")
    assert import_file(deps, src, ImportOptions(campaign="spring")).rows == 2
    named = _write(tmp_path / "named.csv", "who,contact\nC,13800138002\n")
    options = ImportOptions(campaign="spring", phone_column="contact")
    assert import_file(deps, named, options).counts[RowOutcome.ACCEPTED] == 1


def test_dedupe_across_campaigns(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    import_file(deps, _write(tmp_path / "a.csv", "phone\n13800138000\n"), ImportOptions("autumn"))
    src = _write(tmp_path / "b.csv", "phone\n13800138000\n13800138001\n")
    summary = import_file(deps, src, ImportOptions("spring", dedupe_across_campaigns=True))
    assert summary.counts[RowOutcome.DUPLICATE] == 1
    assert _phones(sessions, 1) == ["+8613800138001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"phone,name\n", "no data rows"),
        (b"name,city\nA,Beijing\n", "no phone column"),
        (bytes(range(256)) * 40, "binary"),
        (b"\xff\xfe\xfa" * 10, "UTF-8 or GB18030"),
    ],
)
def test_bad_files_fail_clearly_and_write_nothing(
    sessions: sessionmaker[Session], tmp_path: Path, content: bytes, message: str, deps: ImportDeps
) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    with pytest.raises(ImportError_, match=message):
        import_file(deps, src, ImportOptions(campaign="spring"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(LeadList)) == 0


def test_unknown_campaign(tmp_path: Path, deps: ImportDeps) -> None:
    with pytest.raises(ImportError_, match="no campaign named 'nope'"):
        import_file(deps, _write(tmp_path / "a.csv", "phone\n1\n"), ImportOptions("nope"))


def test_ten_megabyte_line_is_rejected_alone(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    src = tmp_path / "long.csv"
    with src.open("wb") as f:
        f.write(b"phone,note\n13800138000,a\n13800138001,")
        f.write(b"x" * (10 * 1024 * 1024))
        f.write(b"\n13800138002,c\n")
    summary = import_file(deps, src, ImportOptions(campaign="spring"))
    assert summary.counts == {RowOutcome.ACCEPTED: 2, RowOutcome.INVALID: 1}
    rejects = _rejects(tmp_path / "long.csv.rejects.csv")
    assert rejects[0][0] == "3" and "longer than the limit" in rejects[0][3]
    assert _phones(sessions) == ["+8613800138000", "+8613800138002"]


def test_worker_processes_give_the_same_result(
    sessions: sessionmaker[Session], tmp_path: Path, deps: ImportDeps
) -> None:
    lines = ["phone"] + [f"1380013{i:04d}" for i in range(40)] + ["13800130000", "x"]
    src = _write(tmp_path / "w.csv", "\n".join(lines) + "\n")
    inline = import_file(deps, src, ImportOptions("spring", batch_rows=7, workers=0))
    copy = _write(tmp_path / "w2.csv", src.read_text())
    pooled = import_file(deps, copy, ImportOptions("autumn", batch_rows=7, workers=1))
    assert pooled.counts == inline.counts
    assert _phones(sessions, 1) == _phones(sessions, 2)
    assert _rejects(tmp_path / "w.csv.rejects.csv") == _rejects(tmp_path / "w2.csv.rejects.csv")
