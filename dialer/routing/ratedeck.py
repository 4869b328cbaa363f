"""Rate decks: prefix -> price, longest-prefix match, and CSV parsing.

Prefixes are E.164 digits including the country code (``86``, ``86139``). Money is carried
as :class:`~decimal.Decimal` from the CSV to the database; ranking compares the same values.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_PREFIX_RE = re.compile(r"^[0-9]{1,16}$")
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
        if not _PREFIX_RE.match(self.prefix):
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
    rows: tuple[RateEntry, ...]
    errors: tuple[str, ...]


def parse_rate_csv(lines: Iterable[str]) -> RateCsvResult:
    """Parse a rate deck CSV with a header row.

    Columns (aliases in brackets): ``prefix`` [digits], ``rate_per_min`` [rate],
    ``billing_increment_s`` [increment] (default 60), ``connection_fee`` [connect_fee]
    (default 0). A leading ``+`` on prefixes is dropped. Bad rows are reported by line number
    and skipped; a repeated prefix keeps its last row.
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return RateCsvResult((), ("empty file",))
    columns = [_HEADER_ALIASES.get(h.strip().lower().lstrip("\ufeff"), "") for h in header]
    missing = {"prefix", "rate_per_min"} - set(columns)
    if missing:
        return RateCsvResult((), (f"header lacks column(s): {', '.join(sorted(missing))}",))
    rows: dict[str, RateEntry] = {}
    errors: list[str] = []
    for line_no, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {col: cell.strip() for col, cell in zip(columns, record, strict=False) if col}
        try:
            entry = RateEntry(
                prefix=values.get("prefix", "").lstrip("+"),
                rate_per_min=Decimal(values.get("rate_per_min", "")),
                billing_increment_s=int(values.get("billing_increment_s") or 60),
                connection_fee=Decimal(values.get("connection_fee") or 0),
            )
        except InvalidOperation:
            errors.append(f"line {line_no}: price is not a decimal number")
            continue
        except ValueError as exc:
            errors.append(f"line {line_no}: {exc}")
            continue
        rows[entry.prefix] = entry
    return RateCsvResult(tuple(rows.values()), tuple(errors))
