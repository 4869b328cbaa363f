"""XLSX files written part by part, so a test can put into a sheet what a spreadsheet program
would not: formula cells without saved values, a cell at XFD1048576, a 400 MB shared string."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Repeated:
    """``unit`` ``times`` over, written to the zip in pieces, never held whole."""

    unit: str
    times: int


def cell(ref: str, value: str | int, formula: str | None = None) -> str:
    """A cell: a number (int) or inline text, with an optional formula before its value."""
    f = f"<f>{escape(formula)}</f>" if formula is not None else ""
    if isinstance(value, int):
        return f'<c r="{ref}">{f}<v>{value}</v></c>'
    if formula is not None and value == "":
        return f'<c r="{ref}">{f}</c>'
    return f'<c r="{ref}" t="inlineStr">{f}<is><t>{escape(value)}</t></is></c>'


def rows(cells_by_row: Mapping[int, Iterable[str]]) -> str:
    return "".join(
        f'<row r="{r}">{"".join(cells)}</row>' for r, cells in sorted(cells_by_row.items())
    )


def write_xlsx(
    path: Path,
    sheets: Mapping[str, str],
    shared_strings: Iterable[str | Repeated] | None = None,
    dimension: str | None = None,
) -> Path:
    """A workbook of ``sheets`` (name -> the XML inside ``<sheetData>``), in order."""
    names = list(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType'
            '="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, len(names) + 1)
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            + "".join(
                f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, n in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
        )
        shared = (
            f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/sharedStrings"'
            ' Target="sharedStrings.xml"/>'
            if shared_strings is not None
            else ""
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet"'
                f' Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)
            )
            + shared
            + "</Relationships>",
        )
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        for i, name in enumerate(names, start=1):
            z.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<worksheet xmlns="{_MAIN}">{dim}<sheetData>{sheets[name]}</sheetData>'
                "</worksheet>",
            )
        if shared_strings is not None:
            with z.open("xl/sharedStrings.xml", "w") as out:
                out.write(f'<sst xmlns="{_MAIN}">'.encode())
                for text in shared_strings:
                    out.write(b"<si><t>")
                    if isinstance(text, Repeated):
                        piece = escape(text.unit).encode() * (1 << 20)
                        for _ in range(text.times >> 20):
                            out.write(piece)
                        out.write(escape(text.unit).encode() * (text.times & ((1 << 20) - 1)))
                    else:
                        out.write(escape(text).encode())
                    out.write(b"</t></si>")
                out.write(b"</sst>")
    return path


def shared(ref: str, index: int) -> str:
    """A cell holding shared string ``index``."""
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'
