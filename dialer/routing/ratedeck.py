"""Rate decks: prefix -> price, longest-prefix match, and CSV parsing.

Prefixes are E.164 digits including the country code (``86``, ``86139``). Money is carried
as :class:`~decimal.Decimal` from the CSV to the database; ranking compares the same values.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_PREFIX_RE = re.compile(r"[0-9]{1,16}")
# what the rate deck's NUMERIC(12, 6) columns hold exactly (nothing rounded on the way in)
_MONEY_PLACES = 6
_MONEY_LIMIT = Decimal(10) ** (12 - _MONEY_PLACES)
_MAX_INCREMENT_S = 2**31 - 1
_HEADER_ALIASES = {
    "prefix": "prefix",
    "digits": "prefix",
    "rate": "rate_per_min",
    "rate_per_min": "rate_per_min",
    "billing_increment_s": "billing_increment_s",
    "increment": "billing_increment_s",
    "connection_fee": "connection_fee",
    "connect_fee": "connection_fee",
}


@dataclass(frozen=True, slots=True, order=True)
class RateEntry:
    """Price of calls whose number starts with ``prefix``.

    ``rate_per_min`` per minute, billed in ``billing_increment_s`` steps, plus
    ``connection_fee`` per answered call.
    """

    prefix: str
    rate_per_min: Decimal
    billing_increment_s: int = 60
    connection_fee: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must be 1-16 digits")
        if self.rate_per_min < 0 or self.connection_fee < 0:
            raise ValueError(f"prefix {self.prefix}: negative price")
        if self.billing_increment_s < 1:
            raise ValueError(f"prefix {self.prefix}: billing increment must be >= 1 s")

    def cost_key(self) -> tuple[Decimal, Decimal]:
        return (self.rate_per_min, self.connection_fee)


@dataclass(frozen=True, slots=True)
class RateDeck:
    """One trunk's prices; ``entries`` keyed by prefix."""

    entries: Mapping[str, RateEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[RateEntry]) -> RateDeck:
        return cls({row.prefix: row for row in rows})

    def lookup(self, digits: str) -> RateEntry | None:
        """The entry with the longest prefix of ``digits``, or None."""
        entries = self.entries
        for length in range(min(len(digits), 16), 0, -1):
            entry = entries.get(digits[:length])
            if entry is not None:
                return entry
        return None

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class RateCsvResult:
    """A parsed deck: its rows (one per prefix) and one message per bad row, each starting
    ``row N:`` (N counts the file's CSV rows from 1, a header included)."""

    rows: tuple[RateEntry, ...]
    errors: tuple[str, ...]


RATE_COLUMNS = ("prefix", "rate_per_min", "billing_increment_s", "connection_fee")
"""The column order of a deck without a header row; the last two may be left out."""


def parse_rate_csv(lines: Iterable[str], *, header: bool = True) -> RateCsvResult:
    """Parse a rate deck CSV, with a header row or (``header`` False) in `RATE_COLUMNS` order.

    Header columns (aliases in brackets): ``prefix`` [digits], ``rate_per_min`` [rate],
    ``billing_increment_s`` [increment] (default 60), ``connection_fee`` [connect_fee]
    (default 0); other columns are ignored. A leading ``+`` on prefixes is dropped. Blank rows
    are skipped. Every bad row is reported; a prefix repeated with another price is a bad row,
    repeated with the same one is kept once.
    """
    records = _records(csv.reader(lines))
    if header:
        first = next(records, None)
        if first is None:
            return RateCsvResult((), ("row 1: empty file",))
        if isinstance(first, csv.Error):
            return RateCsvResult((), (f"row 1: not CSV: {first}",))
        columns = [_HEADER_ALIASES.get(h.strip().lower().lstrip("\ufeff"), "") for h in first]
        missing = [c for c in RATE_COLUMNS[:2] if c not in columns]
        if missing:
            return RateCsvResult((), (_header_error(first, missing),))
        start = 2
    else:
        columns = list(RATE_COLUMNS)
        start = 1
    rows: dict[str, tuple[int, RateEntry]] = {}
    errors: list[str] = []
    for row_no, record in enumerate(records, start=start):
        if isinstance(record, csv.Error):
            errors.append(f"row {row_no}: not CSV: {record}")
            continue
        if not any(cell.strip() for cell in record):
            continue
        try:
            entry = _entry(record, columns, header)
        except ValueError as exc:
            errors.append(f"row {row_no}: {exc}")
            continue
        seen = rows.get(entry.prefix)
        if seen is not None and seen[1] != entry:
            earlier = seen[0]
            errors.append(
                f"row {row_no}: prefix {entry.prefix} priced differently on row {earlier}"
            )
            continue
        rows.setdefault(entry.prefix, (row_no, entry))
    return RateCsvResult(tuple(entry for _, entry in rows.values()), tuple(errors))


def _records(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """The reader's records; a record the csv module cannot read is its error, and reading
    goes on with the next line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _header_error(first: list[str], missing: list[str]) -> str:
    shown = ",".join(first)[:60]
    if first and _PREFIX_RE.fullmatch(first[0].strip().lstrip("+\ufeff")):
        return (
            f"row 1: {shown!r} is data, not a header; a deck without a header row needs "
            f"--no-header (columns {','.join(RATE_COLUMNS)})"
        )
    return f"row 1: header {shown!r} lacks column(s): {', '.join(missing)}"


def _entry(record: list[str], columns: list[str], header: bool) -> RateEntry:
    """One data row as an entry; ValueError naming the bad value."""
    if not header and len(record) > len(RATE_COLUMNS):
        raise ValueError(f"{len(record)} cells, at most {len(RATE_COLUMNS)} without a header")
    values = {col: cell.strip() for col, cell in zip(columns, record, strict=False) if col}
    prefix = values.get("prefix", "").lstrip("+")
    if not _PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r} is not 1-16 digits")
    increment = values.get("billing_increment_s") or "60"
    if not (
        increment.isascii() and increment.isdigit() and 1 <= int(increment) <= _MAX_INCREMENT_S
    ):
        raise ValueError(f"billing_increment_s {increment!r} is not a whole number >= 1")
    return RateEntry(
        prefix=prefix,
        rate_per_min=_price(values.get("rate_per_min", ""), "rate_per_min"),
        billing_increment_s=int(increment),
        connection_fee=_price(values.get("connection_fee") or "0", "connection_fee"),
    )


def _price(text: str, column: str) -> Decimal:
    if not text:
        raise ValueError(f"no {column}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{column} {text!r} is not a decimal number")
    if value < 0:
        raise ValueError(f"{column} {text} is negative")
    exponent = value.normalize().as_tuple().exponent  # an int: the value is finite
    if value >= _MONEY_LIMIT or (isinstance(exponent, int) and -exponent > _MONEY_PLACES):
        raise ValueError(
            f"{column} {text} does not fit: below {_MONEY_LIMIT}, at most {_MONEY_PLACES} decimals"
        )
    return value
