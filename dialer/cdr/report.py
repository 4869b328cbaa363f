"""Cost and minutes per campaign, trunk and day, from the stored CDRs' cost lines. Pure.

A day is a calendar day in the report's time zone (``DIALER_TIMEZONE``) of the call's start.
``billed_min`` is the billed seconds (the trunk's increments) in minutes; ``cost`` sums the
priced calls, ``unpriced`` counts the calls whose number had no rate (their billed seconds are
their billsec). ``queue_wait_s`` is the mean over the calls that were queued (None: none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from dialer.cdr.billing import CostLine

__all__ = ["CostRow", "cost_report", "total"]

_MIN = Decimal(60)
NO_CAMPAIGN = ""


@dataclass(frozen=True, slots=True)
class CostRow:
    campaign: str
    trunk: str
    day: date
    calls: int
    answered: int
    billsec: int
    billed_min: Decimal
    cost: Decimal
    unpriced: int
    queue_wait_s: float | None


def _row(key: tuple[str, str, date], lines: list[CostLine]) -> CostRow:
    waits = [x.queue_wait_s for x in lines if x.queue_wait_s is not None]
    billed_s = sum(x.billed_s for x in lines)
    return CostRow(
        campaign=key[0],
        trunk=key[1],
        day=key[2],
        calls=len(lines),
        answered=sum(x.answered for x in lines),
        billsec=sum(x.billsec for x in lines),
        billed_min=(Decimal(billed_s) / _MIN).quantize(Decimal("0.01")),
        cost=sum((x.cost for x in lines if x.cost is not None), Decimal(0)),
        unpriced=sum(x.cost is None for x in lines),
        queue_wait_s=round(sum(waits) / len(waits), 1) if waits else None,
    )


def cost_report(
    lines: Iterable[CostLine], zone: ZoneInfo, campaigns: Mapping[int, str]
) -> list[CostRow]:
    """One row per (campaign name, trunk, day), sorted; ``campaigns`` names the ids (a call
    without one, or of a campaign since deleted, is under its id or ``""``)."""
    groups: dict[tuple[str, str, date], list[CostLine]] = {}
    for line in lines:
        cid = line.campaign_id
        name = NO_CAMPAIGN if cid is None else campaigns.get(cid, f"#{cid}")
        key = (name, line.trunk, line.started_at.astimezone(zone).date())
        groups.setdefault(key, []).append(line)
    return [_row(key, groups[key]) for key in sorted(groups)]


def total(rows: Iterable[CostRow]) -> tuple[int, int, Decimal, Decimal]:
    """(calls, answered, billed minutes, cost) over ``rows``."""
    rows = list(rows)
    return (
        sum(r.calls for r in rows),
        sum(r.answered for r in rows),
        sum((r.billed_min for r in rows), Decimal(0)),
        sum((r.cost for r in rows), Decimal(0)),
    )
