"""Row sources for lead files: CSV (any common delimiter and encoding) and XLSX/XLS.

A source yields one :class:`TableRow` per spreadsheet row after the header, in order, with its
spreadsheet row number (the header is row 1).  A row that cannot be read (undecodable bytes,
a line over ``MAX_LINE_BYTES``) comes out as a :class:`BadRow` in its place, so one bad line
never costs the rows around it.  CSV is streamed; memory does not grow with the file.

A CSV quote left open would swallow the rows after it into one field, so before any row is
handed out the whole file is read once for its structure: a record that spans more than
``MAX_RECORD_LINES`` lines, or a quote still open at the end of the file, refuses the file
with its row number (nothing has been written then).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import operator
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, NoReturn
from xml.etree import ElementTree

from campaigns.importer.xlsx_check import (
    DEFAULT_LIMITS,
    SheetCheckError,
    SheetFacts,
    SheetLimits,
    check_sheet,
    sheet_names,
)

MAX_LINE_BYTES = 1 << 20
# A quoted field may hold line breaks (addresses, notes); one that runs on for more lines than
# this is taken for a quote left open.
MAX_RECORD_LINES = 32
_SNIFF_BYTES = 64 * 1024
_TOO_LONG = "\ue000"  # stands in for an over-long line; private-use, never in real data
_END = "\ue001"  # fed after the last line: a field still quoted there swallows it
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_DELIMITERS = ",;\t|"
_SPREADSHEET_SUFFIXES = {".xlsx": "XLSX", ".xlsm": "XLSX", ".xls": "XLS"}


class SourceError(Exception):
    """The file as a whole cannot be read as a lead list; the message says why."""


@dataclass(frozen=True, slots=True)
class TableRow:
    """``formulas``: the cells (by 0-based column) that hold a formula without a saved value,
    with the formula's start; such a cell reads as empty."""

    row_no: int
    cells: list[str]
    formulas: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadRow:
    row_no: int
    raw: str
    reason: str


def open_table(
    path: Path,
    max_record_lines: int = MAX_RECORD_LINES,
    sheet: str | None = None,
    limits: SheetLimits = DEFAULT_LIMITS,
) -> tuple[list[str], Iterator[TableRow | BadRow]]:
    """The first row (as read, header or not) and an iterator over the rows after it; of an
    XLSX/XLS workbook, those of ``sheet`` (a name or 1-based index; None: the first).

    Raises `SourceError` for a file that cannot be read as a whole: a CSV with a quote left
    open (see `check_quotes`), a sheet over ``limits`` (see `xlsx_check`), a file named
    ``.xlsx`` that is not one."""
    try:
        with path.open("rb") as probe:
            head = probe.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SourceError(f"{path}: cannot open: {exc.strerror}") from None
    if not head:
        raise SourceError(f"{path}: the file is empty")
    if head.startswith(_XLSX_MAGIC) or head.startswith(_XLS_MAGIC):
        return _spreadsheet_rows(path, head.startswith(_XLSX_MAGIC), sheet, limits)
    kind = _SPREADSHEET_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        raise SourceError(
            f"{path}: not an {kind} file (it starts with {head[:24]!r}, not a workbook's "
            f"bytes); if it is CSV text, name it .csv"
        )
    if sheet is not None:
        raise SourceError(f"{path}: --sheet is for XLSX/XLS workbooks; a CSV file has one table")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise SourceError(f"{path}: not a CSV or XLSX file (binary data: NUL byte at offset {nul})")
    return _csv_rows(path, head, max_record_lines)


def _check_text(head: bytes) -> None:
    """Refuse a file whose start is neither UTF-8 nor GB18030 text."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            head.decode("gb18030")
        except UnicodeDecodeError:
            raise SourceError(
                "not a text file in UTF-8 or GB18030 (undecodable bytes near the start)"
            ) from None


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    lines = sample.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel


def _csv_rows(
    path: Path, head: bytes, max_record_lines: int
) -> tuple[list[str], Iterator[TableRow | BadRow]]:
    _check_text(head)
    sample = _decode(head, errors="replace").lstrip("\ufeff")
    dialect = _sniff_dialect(sample)
    csv.field_size_limit(MAX_LINE_BYTES)
    with path.open("rb") as whole:
        try:
            check_quotes(whole, dialect, max_record_lines)
        except SourceError as exc:
            raise SourceError(f"{path}: {exc}") from None
    raw = path.open("rb")
    bad_lines: dict[int, BadRow] = {}
    lines = _decoded_lines(raw, bad_lines)
    reader = csv.reader(lines, dialect)
    records = _records(reader, bad_lines)
    try:
        first = next(records)
    except StopIteration:
        raw.close()
        raise SourceError(f"{path}: the file has no rows") from None
    if isinstance(first, BadRow):
        raw.close()
        raise SourceError(f"{path}: the first row cannot be read: {first.reason}")
    return first.cells, _closing(records, raw)


def check_quotes(
    raw: IO[bytes], dialect: type[csv.Dialect] | csv.Dialect, max_record_lines: int
) -> None:
    """Raise `SourceError` naming the row where a quote was left open: a record that spans
    more than ``max_record_lines`` lines, or a field still quoted at the end of the file.

    Only the structure is read: bytes as Latin-1 (quotes, delimiters and line ends are ASCII,
    which neither UTF-8 nor GB18030 uses inside a character), in 1 MiB chunks through the
    CSV reader, so memory is bounded by the chunk and the longest field (``MAX_LINE_BYTES``).
    """
    reader = csv.reader(_structure_lines(raw), dialect)
    row_no = line_no = 0
    while True:
        try:
            for cells in reader:
                row_no += 1
                first_line, line_no = line_no + 1, reader.line_num
                unclosed = cells != [_END] and bool(cells) and _END in cells[-1]
                if unclosed or line_no - first_line >= max_record_lines:
                    _refuse(cells, row_no, first_line, line_no, max_record_lines)
            break
        except csv.Error:
            row_no += 1
            first_line, line_no = line_no + 1, reader.line_num
            if line_no - first_line >= max_record_lines:
                _refuse([], row_no, first_line, line_no, max_record_lines)


def _refuse(
    cells: list[str], row_no: int, first_line: int, last_line: int, max_record_lines: int
) -> NoReturn:
    if cells and _END in cells[-1]:
        raise SourceError(
            f"row {row_no} (line {first_line}): a quote opened there is never closed; "
            "the rest of the file would be one field. Close the quote; nothing was imported"
        )
    raise SourceError(
        f"row {row_no} (line {first_line}): a quoted field runs on to line {last_line}, "
        f"over {max_record_lines} lines (a quote left open?). Close the quote; "
        "nothing was imported"
    )


def _structure_lines(raw: IO[bytes]) -> Iterator[str]:
    """The file's lines as Latin-1 text, then a line of `_END`: a field still quoted at the
    end of the file swallows it. A line over ``MAX_LINE_BYTES`` comes out as `_TOO_LONG`."""
    carry = b""
    skipping = False
    start = raw.read(3)
    if start != b"\xef\xbb\xbf":
        carry = start
    while chunk := raw.read(1 << 20):
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        if skipping and lines:
            lines[0] = b""
            skipping = False
        yield from map(operator.add, b"\n".join(lines).decode("latin-1").split("\n"),
                       itertools.repeat("\n")) if lines else ()  # fmt: skip
        if len(carry) > MAX_LINE_BYTES:
            carry, skipping = b"", True
    if carry or skipping:
        yield (_TOO_LONG if skipping else carry.decode("latin-1")) + "\n"
    yield "\n" + _END + "\n"


def _closing(rows: Iterator[TableRow | BadRow], handle: IO[bytes]) -> Iterator[TableRow | BadRow]:
    with handle:
        yield from rows


def _decoded_lines(raw: IO[bytes], bad_lines: dict[int, BadRow]) -> Iterator[str]:
    """Decode line by line, so a file that mixes encodings loses no line to the other's bytes."""
    first = True
    line_no = 0
    while True:
        chunk = raw.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        line_no += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            size = len(chunk) + _skip_rest_of_line(raw)
            bad_lines[line_no] = BadRow(
                0,
                _decode(chunk[:80], errors="replace"),
                f"line of {size} bytes is longer than the limit of {MAX_LINE_BYTES}",
            )
            yield _TOO_LONG + "\n"
            continue
        text = _decode(chunk)
        if first:
            text = text.lstrip("\ufeff")
            first = False
        yield text


def _skip_rest_of_line(raw: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = raw.readline(MAX_LINE_BYTES)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _decode(chunk: bytes, errors: str = "strict") -> str:
    """UTF-8 first: GBK text is almost never valid UTF-8, while GB18030 accepts nearly any bytes."""
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return chunk.decode("gb18030")
    except UnicodeDecodeError:
        return chunk.decode("utf-8", errors="replace")


def _records(
    reader: Iterator[list[str]], bad_lines: dict[int, BadRow]
) -> Iterator[TableRow | BadRow]:
    """Spreadsheet rows: one per CSV record, blank records counted but not yielded."""
    row_no = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_no += 1
            yield BadRow(row_no, "", f"malformed CSV: {exc}")
            continue
        row_no += 1
        if cells == [_TOO_LONG]:
            line_no = getattr(reader, "line_num", 0)
            bad = bad_lines.pop(line_no, None)
            yield BadRow(row_no, bad.raw if bad else "", bad.reason if bad else "line too long")
            continue
        if not any(c.strip() for c in cells):
            continue
        yield TableRow(row_no, cells)


def choose_sheet(names: Sequence[str], wanted: str | None) -> str:
    """The sheet ``wanted`` names: a sheet's name (exact, then ignoring case) or its 1-based
    index; None: the first sheet."""
    if not names:
        raise SourceError("the workbook has no sheets")
    if wanted is None or wanted in names:
        return wanted or names[0]
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    folded = [n.casefold() for n in names]
    if wanted.casefold() in folded:
        return names[folded.index(wanted.casefold())]
    raise SourceError(f"--sheet {wanted!r}: no such sheet; the sheets are {list(names)}")


def workbook_sheets(path: Path) -> list[str]:
    """The sheets of the XLSX/XLS workbook at ``path``, in order; empty for any other file
    or a workbook that cannot be read (its import says why)."""
    try:
        with path.open("rb") as probe:
            head = probe.read(len(_XLS_MAGIC))
        if head.startswith(_XLSX_MAGIC):
            with zipfile.ZipFile(path) as archive:
                return sheet_names(archive)
        if head.startswith(_XLS_MAGIC):
            from python_calamine import CalamineWorkbook

            return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # a broken workbook: the import itself names its problem
        return []
    return []


def _checked_sheet(path: Path, wanted: str | None, limits: SheetLimits) -> SheetFacts:
    """The XLSX sheet ``wanted``, checked against ``limits`` from the zip before calamine
    loads anything of the workbook (it reads the shared strings when it opens it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = choose_sheet(sheet_names(archive), wanted)
            return check_sheet(archive, name, limits)
    except SheetCheckError as exc:
        raise SourceError(f"{path}: {exc}") from None
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError) as exc:
        raise SourceError(f"{path}: not a readable XLSX workbook: {exc}") from None


def _spreadsheet_rows(
    path: Path, is_xlsx: bool, wanted: str | None, limits: SheetLimits
) -> tuple[list[str], Iterator[TableRow | BadRow]]:
    from python_calamine import CalamineWorkbook

    # An XLS sheet is at most 65,536 x 256 cells by its format; an XLSX one is checked first.
    facts = _checked_sheet(path, wanted, limits) if is_xlsx else None
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        name = facts.name if facts else choose_sheet(workbook.sheet_names, wanted)
        sheet = workbook.get_sheet_by_name(name)
    except SourceError:
        raise
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise SourceError(f"{path}: not a readable XLSX/XLS workbook: {exc}") from None
    first_row, first_col = sheet.start or (0, 0)
    formulas: dict[int, dict[int, str]] = {}
    for (row, col), text in (facts.formulas if facts else {}).items():
        formulas.setdefault(row, {})[col - first_col] = text
    rows = (
        TableRow(i, [cell_text(c) for c in cells], formulas.get(i, {}))
        for i, cells in enumerate(sheet.iter_rows(), start=first_row + 1)
    )
    non_blank = (r for r in rows if any(c.strip() for c in r.cells) or r.formulas)
    try:
        first = next(non_blank)
    except StopIteration:
        raise SourceError(f"{path}: sheet {name!r} has no rows") from None
    return first.cells, non_blank


def cell_text(value: object) -> str:
    """A spreadsheet cell as text; integral floats lose their ``.0`` (phone columns)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
