"""Pure part of the lead import: find the phone column, turn rows into candidates or rejects.

Every input row ends in exactly one :class:`RowOutcome`; the store decides between
``accepted`` and ``duplicate`` for candidates that survive the in-file and DNC checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.importer.sources import BadRow, TableRow
from campaigns.numbers import Invalid, Normalized, normalize

PHONE_HEADERS = (
    "phone", "phone_number", "phonenumber", "phone number", "mobile", "mobile_phone",
    "mobile phone", "cell", "cellphone", "msisdn", "tel", "telephone", "number",
    "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "号码", "移动电话",
)  # fmt: skip
_SCIENTIFIC = re.compile(r"\s*\d(?:\.\d+)?[eE]\+?\d+\s*")


class RowOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    DNC = "dnc"
    INVALID = "invalid"


class LayoutError(Exception):
    """The file's columns do not allow an import; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the phone is and what the other columns are called; ``has_header`` false means
    the first row is data."""

    phone_index: int
    columns: tuple[str, ...]
    has_header: bool


@dataclass(frozen=True, slots=True)
class LeadCandidate:
    row_no: int
    raw: str
    number: Normalized
    custom_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reject:
    row_no: int
    raw: str
    outcome: RowOutcome
    reason: str


def find_layout(first_row: Sequence[str], phone_column: str | None, region: str) -> Layout:
    """Decide the phone column from the header, ``phone_column`` (a name or a 1-based index),
    or, for a file without header, from the first row's values."""
    names = tuple(c.strip() for c in first_row)
    if phone_column is not None:
        return Layout(_named_column(names, phone_column), _column_names(names), True)
    lowered = [n.lower() for n in names]
    for wanted in PHONE_HEADERS:
        if wanted in lowered:
            return Layout(lowered.index(wanted), _column_names(names), True)
    for index, value in enumerate(names):
        if isinstance(normalize(value, region), Normalized):
            generic = tuple(f"col{i + 1}" for i in range(len(names)))
            return Layout(index, generic, False)
    raise LayoutError(
        f"no phone column: none of the columns {list(names)} is named like a phone column "
        f"({', '.join(PHONE_HEADERS[:6])}, 手机号, ...) and the first row holds no phone "
        "number; name the column with --phone-column"
    )


def _named_column(names: tuple[str, ...], wanted: str) -> int:
    if wanted.isdigit():
        index = int(wanted) - 1
        if 0 <= index < len(names):
            return index
        raise LayoutError(f"--phone-column {wanted}: the file has {len(names)} columns")
    lowered = [n.lower() for n in names]
    if wanted.strip().lower() in lowered:
        return lowered.index(wanted.strip().lower())
    raise LayoutError(f"--phone-column {wanted!r} is not a column; the columns are {list(names)}")


def _column_names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n or f"col{i + 1}" for i, n in enumerate(names))


def classify(
    row_no: int, cells: Sequence[str], layout: Layout, region: str
) -> LeadCandidate | Reject:
    if layout.phone_index >= len(cells):
        return Reject(row_no, "", RowOutcome.INVALID, "row has no value in the phone column")
    raw = cells[layout.phone_index]
    if _SCIENTIFIC.fullmatch(raw):
        return Reject(
            row_no,
            raw,
            RowOutcome.INVALID,
            "number in scientific notation (a spreadsheet dropped its digits)",
        )
    result = normalize(raw, region)
    if isinstance(result, Invalid):
        return Reject(row_no, raw, RowOutcome.INVALID, result.reason)
    extra = {
        layout.columns[i] if i < len(layout.columns) else f"col{i + 1}": value
        for i, value in enumerate(cells)
        if i != layout.phone_index and value != ""
    }
    return LeadCandidate(row_no, raw.strip(), result, extra)


@dataclass(frozen=True, slots=True)
class DncPrefixes:
    """DNC number prefixes in E.164 form (``+86138``), checked by their lengths."""

    prefixes: frozenset[str]
    lengths: tuple[int, ...]

    @classmethod
    def of(cls, prefixes: Iterable[str]) -> DncPrefixes:
        found = frozenset(prefixes)
        return cls(found, tuple(sorted({len(p) for p in found})))

    def match(self, e164: str) -> str | None:
        for length in self.lengths:
            if e164[:length] in self.prefixes:
                return e164[:length]
        return None


def duplicate(cand: LeadCandidate, repeats_row: int | None) -> Reject:
    """``cand`` as a duplicate: of row ``repeats_row`` of its own file, or (None) of a lead
    the campaign already has from another file."""
    e164 = cand.number.e164
    if repeats_row is None:
        reason = f"{e164} is already a lead of this campaign"
    else:
        reason = f"{e164} repeats row {repeats_row}"
    return Reject(cand.row_no, cand.raw, RowOutcome.DUPLICATE, reason)


def split_batch(
    candidates: Iterable[LeadCandidate], dnc_exact: frozenset[str], dnc_prefixes: DncPrefixes
) -> tuple[list[LeadCandidate], list[Reject]]:
    """Drop DNC numbers and numbers repeated inside the batch; keep the first occurrence."""
    kept: dict[str, LeadCandidate] = {}
    rejects: list[Reject] = []
    for cand in candidates:
        e164 = cand.number.e164
        if e164 in dnc_exact:
            rejects.append(
                Reject(cand.row_no, cand.raw, RowOutcome.DNC, f"{e164} is on the DNC list")
            )
            continue
        prefix = dnc_prefixes.match(e164)
        if prefix is not None:
            reason = f"{e164} matches DNC prefix {prefix}"
            rejects.append(Reject(cand.row_no, cand.raw, RowOutcome.DNC, reason))
            continue
        first = kept.get(e164)
        if first is not None:
            rejects.append(duplicate(cand, first.row_no))
            continue
        kept[e164] = cand
    return list(kept.values()), rejects


def formula_reject(row_no: int, formula: str) -> Reject:
    """A phone cell that holds a formula with no saved value (its file was written by a
    program that does not compute formulas; a saved value is used as the number)."""
    shown = f"={formula}" if formula else "a shared formula"
    return Reject(
        row_no, f"={formula}", RowOutcome.INVALID,
        f"formula cell: {shown} has no saved value; open and save the file in a spreadsheet, "
        "or paste the column as values",
    )  # fmt: skip


def classify_batch(
    batch: Sequence[TableRow | BadRow], layout: Layout, region: str
) -> tuple[list[LeadCandidate], list[Reject]]:
    """Candidates and rejects of one batch, each row in exactly one of them."""
    candidates: list[LeadCandidate] = []
    rejects: list[Reject] = []
    for row in batch:
        if isinstance(row, BadRow):
            rejects.append(Reject(row.row_no, row.raw, RowOutcome.INVALID, row.reason))
            continue
        formula = row.formulas.get(layout.phone_index)
        if formula is not None:
            rejects.append(formula_reject(row.row_no, formula))
            continue
        result = classify(row.row_no, row.cells, layout, region)
        if isinstance(result, LeadCandidate):
            candidates.append(result)
        else:
            rejects.append(result)
    return candidates, rejects
