"""Do-not-call entries: exact numbers and number prefixes, global or per campaign."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.models import DncEntry
from campaigns.numbers import Invalid, normalize

_PREFIX = re.compile(r"^\+[1-9]\d{0,14}$")


class DncError(Exception):
    """A DNC value that is neither a valid number nor an E.164 prefix."""


def add_entry(
    session: Session,
    value: str,
    *,
    region: str,
    is_prefix: bool = False,
    campaign_id: int | None = None,
    source: str = "manual",
    reason: str = "",
    expires_at: datetime | None = None,
) -> DncEntry:
    """Store ``value``: a number (normalized to E.164) or, with ``is_prefix``, a ``+``-prefix."""
    if is_prefix:
        number = value.strip().replace(" ", "")
        if not _PREFIX.match(number):
            raise DncError(f"DNC prefix {value!r} must be '+' and 1-15 digits, e.g. +86138")
    else:
        result = normalize(value, region)
        if isinstance(result, Invalid):
            raise DncError(f"DNC number {value!r}: {result.reason}")
        number = result.e164
    entry = DncEntry(
        number=number,
        is_prefix=is_prefix,
        campaign_id=campaign_id,
        source=source,
        reason=reason,
        expires_at=expires_at,
    )
    session.add(entry)
    session.flush()
    return entry
