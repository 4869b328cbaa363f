"""What an XLSX sheet would cost to load, read from its zip before calamine loads it.

calamine holds a sheet as one dense grid of its used range and its shared strings as one list:
a 1.4 KB file with one cell at XFD1048576 asks for 2^34 cells (512 GiB, the process aborts),
and a 409 KB file with one 400 MB cell takes 3 GB. So the sheet's XML and the shared strings
are first streamed from the zip in chunks (memory bounded by the chunk and the limits, never
by the file): the sheet's ``<dimension>`` and the reach of its cells must stay within
``max_cells``, every text (a cell, a shared string) within ``max_cell_bytes``, the shared
strings within ``max_shared_bytes``. The first excess is refused naming the sheet and cell.

The same pass records formula cells that hold no saved value (written by a program that does
not compute formulas), which calamine reads as empty.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NoReturn
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

# 2^24 cells: a whole XLS sheet (65,536 x 256); 1,048,576 rows x 16 columns in XLSX.
MAX_SHEET_CELLS = 1 << 24
# Excel holds at most 32,767 characters in a cell: 4 bytes each in UTF-8, the most there is.
MAX_CELL_BYTES = 1 << 17
MAX_SHARED_BYTES = 1 << 29
_MAX_PART_BYTES = 16 << 20  # workbook.xml and its relationships, read whole
_CHUNK = 1 << 20
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Every writer seen puts r= first; a block whose cells do not is read with _ANY_CELL.
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_ANY_CELL = re.compile(rb'<(?:\w{1,16}:)?c\s[^>]{0,256}?\br="([A-Z]{1,3})([0-9]{1,7})"')
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_DIMENSION = re.compile(rb'<(?:\w{1,16}:)?dimension\s[^>]*?\bref="([A-Z0-9:]{2,32})"')
_FORMULA_ONLY = re.compile(
    rb'<c\s[^>]{0,256}?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*'
    rb"<f\b[^>]*?(?:/>|>([^<]{0,200})[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>"
)
_SHARED_STRING = re.compile(rb"<(?:\w{1,16}:)?si[\s>]")
_MAX_FORMULAS_KEPT = 100_000


class SheetCheckError(Exception):
    """The workbook or sheet may not be loaded; the message names the sheet and the cell."""


@dataclass(frozen=True, slots=True)
class SheetLimits:
    max_cells: int = MAX_SHEET_CELLS
    max_cell_bytes: int = MAX_CELL_BYTES
    max_shared_bytes: int = MAX_SHARED_BYTES


DEFAULT_LIMITS = SheetLimits()


@dataclass(frozen=True, slots=True)
class SheetFacts:
    """``formulas``: (row, 0-based column) of each formula cell without a saved value, with
    the start of its formula (empty for a shared formula's followers)."""

    name: str
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Parts:
    sheets: list[tuple[str, str]]  # (sheet name, zip member), in workbook order
    shared_strings: str | None


def column_index(letters: bytes | str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26, ``XFD`` -> 16383."""
    index = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        index = index * 26 + ord(ch) - 64
    return index - 1


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > _MAX_PART_BYTES:
        raise SheetCheckError(f"{name} is {info.file_size:,} bytes, not a workbook's")
    return archive.read(name)


def _parts(archive: zipfile.ZipFile) -> _Parts:
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise SheetCheckError("a zip file without xl/workbook.xml, not an XLSX workbook")
    targets: dict[str, str] = {}
    shared: str | None = None
    if "xl/_rels/workbook.xml.rels" in names:
        rels = ElementTree.fromstring(_read_part(archive, "xl/_rels/workbook.xml.rels"))
        for rel in rels:
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            member = posixpath.normpath(member)
            targets[rel.get("Id", "")] = member
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = member
    workbook = ElementTree.fromstring(_read_part(archive, "xl/workbook.xml"))
    sheets = [
        (el.get("name", ""), targets.get(el.get(f"{{{_REL_NS}}}id", ""), ""))
        for el in workbook.iter()
        if el.tag.rsplit("}", 1)[-1] == "sheet"
    ]
    if shared is None and "xl/sharedStrings.xml" in names:
        shared = "xl/sharedStrings.xml"
    return _Parts(sheets, shared if shared in names else None)


def sheet_names(archive: zipfile.ZipFile) -> list[str]:
    """The workbook's sheets, in order."""
    return [name for name, _ in _parts(archive).sheets]


def check_sheet(archive: zipfile.ZipFile, sheet: str, limits: SheetLimits) -> SheetFacts:
    """Check sheet ``sheet`` (and the shared strings) against ``limits`` without loading it."""
    parts = _parts(archive)
    member = dict(parts.sheets).get(sheet, "")
    if member not in archive.namelist():
        raise SheetCheckError(f"sheet {sheet!r} has no worksheet part in the workbook")
    oversized = None
    if parts.shared_strings is not None:
        oversized = _check_shared_strings(archive, parts.shared_strings, limits)
    scan = _SheetScan(sheet, limits, oversized)
    try:
        for block in _blocks(archive, member, limits):
            scan.take(block)
    except _Oversized:
        scan.too_big(scan.last_ref)
    return scan.finish()


class _Oversized(Exception):
    """A run of text without a tag, ``size`` bytes so far, longer than the cell limit."""

    def __init__(self, size: int) -> None:
        self.size = size


def _blocks(archive: zipfile.ZipFile, member: str, limits: SheetLimits) -> Iterator[bytes]:
    """The member's bytes in blocks cut after a ``</row>`` (or before a ``<``), so a row (or
    a tag) is whole in its block; a run of text longer than the limit raises `_Oversized` as
    soon as it is read."""
    tail = b""
    try:
        with archive.open(member) as stream:
            while data := stream.read(_CHUNK):
                buf = tail + data
                cut = buf.rfind(b"</row>")
                cut = cut + 6 if cut >= 0 else buf.rfind(b"<")
                if cut <= 0:
                    if len(buf) > limits.max_cell_bytes + 64:
                        raise _Oversized(len(buf))
                    tail = buf
                    continue
                yield buf[:cut]
                tail = buf[cut:]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SheetCheckError(f"{member} cannot be read from the zip: {exc}") from None
    if tail:
        yield tail


def long_run(block: bytes, bound: int) -> tuple[int, int] | None:
    """Where ``block`` has a run of more than ``bound`` bytes without a ``<`` (a text or a
    tag), as (start, length); None if it has none.

    Such a run holds a whole aligned window of ``bound // 2`` bytes, so only one ``find`` per
    window is needed, whatever the number of cells (the block is never split)."""
    step = max(1, bound // 2)
    for start in range(0, len(block) - step + 1, step):
        if block.find(b"<", start, start + step) < 0:
            left = block.rfind(b"<", 0, start) + 1
            right = block.find(b"<", start + step)
            length = (len(block) if right < 0 else right) - left
            if length > bound:
                return left, length
    return None


def _check_shared_strings(
    archive: zipfile.ZipFile, member: str, limits: SheetLimits
) -> tuple[int, int] | None:
    """The first shared string over ``max_cell_bytes`` (its index, its size), if any; refuses
    shared strings over ``max_shared_bytes`` in all."""
    seen = 0
    total = 0
    try:
        for block in _blocks(archive, member, limits):
            total += len(block)
            if total > limits.max_shared_bytes:
                raise SheetCheckError(
                    f"the shared strings are over {limits.max_shared_bytes:,} bytes; "
                    "save the sheet as CSV"
                )
            found = long_run(block, limits.max_cell_bytes)
            if found is not None:
                start, length = found
                return seen + len(_SHARED_STRING.findall(block, 0, start)) - 1, length
            seen += len(_SHARED_STRING.findall(block))
    except _Oversized as exc:
        return seen - 1, exc.size
    return None


class _SheetScan:
    """Running reach, text sizes and formula cells of one sheet's XML, block by block."""

    def __init__(
        self, sheet: str, limits: SheetLimits, oversized_string: tuple[int, int] | None
    ) -> None:
        self.sheet = sheet
        self.limits = limits
        self.oversized_string = oversized_string
        self.max_col = -1
        self.max_row = 0
        self.last_ref = "A1"
        self.formulas: dict[tuple[int, int], str] = {}
        self.first = True

    def too_big(self, ref: str) -> NoReturn:
        raise SheetCheckError(
            f"sheet {self.sheet!r}: cell {ref} holds more than {self.limits.max_cell_bytes:,} "
            "bytes of text, the limit (a spreadsheet cell holds at most 32,767 characters); "
            "nothing was imported"
        )

    def take(self, block: bytes) -> None:
        if self.first:
            self.first = False
            self._check_dimension(block)
        found = long_run(block, self.limits.max_cell_bytes)
        if found is not None:
            refs = _REF.findall(block, 0, found[0])
            self.too_big(refs[-1].decode() if refs else self.last_ref)
        tagged = block.count(b"<c ") + block.count(b"<c>")
        cells = _CELL.findall(block)
        if len(cells) < tagged:
            cells = _ANY_CELL.findall(block)
        if cells:
            cols, rows = zip(*cells, strict=True)
            self.max_col = max(self.max_col, *(column_index(c) for c in set(cols)))
            self.max_row = max(self.max_row, *map(int, set(rows)))
            self.last_ref = (cells[-1][0] + cells[-1][1]).decode()
        # A cell without its r= attribute stands after the one before it: count it as a column.
        self.max_col += max(0, tagged - len(cells))
        self._check_reach()
        if self.oversized_string is not None:
            self._find_oversized_cell(block)
        if b"<f" in block and len(self.formulas) < _MAX_FORMULAS_KEPT:
            for col, row, formula in _FORMULA_ONLY.findall(block):
                key = (int(row), column_index(col))
                text = formula.decode("utf-8", errors="replace")
                self.formulas[key] = unescape(text, {"&quot;": '"', "&apos;": "'"})

    def _check_dimension(self, block: bytes) -> None:
        found = _DIMENSION.search(block)
        if found is None:
            return
        ref = found.group(1).decode()
        last = ref.rsplit(":", 1)[-1]
        letters = last.rstrip("0123456789")
        if not letters or not last[len(letters) :].isdigit():
            return
        cells = (column_index(letters) + 1) * int(last[len(letters) :])
        if cells > self.limits.max_cells:
            self._refuse_reach(f"its dimension is {ref}", cells)

    def _check_reach(self) -> None:
        cells = (self.max_col + 1) * self.max_row
        if cells > self.limits.max_cells:
            self._refuse_reach(f"its cells reach {self.last_ref}", cells)

    def _refuse_reach(self, what: str, cells: int) -> NoReturn:
        raise SheetCheckError(
            f"sheet {self.sheet!r}: {what} ({cells:,} cells from A1), over the limit of "
            f"{self.limits.max_cells:,} cells; delete what lies past the data, or save the "
            "sheet as CSV; nothing was imported"
        )

    def _find_oversized_cell(self, block: bytes) -> None:
        assert self.oversized_string is not None
        index, _ = self.oversized_string
        needle = b"<v>%d</v>" % index
        at = block.find(needle)
        while at >= 0:
            start = block.rfind(b"<c ", 0, at)
            tag = block[start : block.find(b">", start) + 1]
            ref = _REF.search(tag)
            if b't="s"' in tag and ref is not None:
                self.too_big(ref.group(1).decode())
            at = block.find(needle, at + 1)

    def finish(self) -> SheetFacts:
        if self.oversized_string is not None:
            index, _ = self.oversized_string
            raise SheetCheckError(
                f"shared string #{index} holds more than {self.limits.max_cell_bytes:,} bytes "
                "of text, the limit; nothing was imported"
            )
        return SheetFacts(self.sheet, self.formulas)
