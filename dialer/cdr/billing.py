"""What a call costs on its trunk, and how long it waited in the queue. Pure.

A trunk's rate deck (`dialer.routing.ratedeck`) prices a number by its longest prefix:
``rate_per_min``, billed in steps of ``billing_increment_s`` from the first second (the deck's
``6`` is the usual "6/6", ``60`` "60/60"), plus ``connection_fee`` per answered call. The
billed seconds are FreeSWITCH's ``billsec`` (answer to hangup, whole seconds) rounded up to
the step; a call never answered costs nothing. Money is `Decimal`, kept to 6 places
(`COST_QUANTUM`), rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from dialer.cdr.parse import CdrFacts
from dialer.routing.ratedeck import RateEntry

__all__ = ["COST_QUANTUM", "Charge", "CostLine", "billed_seconds", "charge", "charge_of"]

COST_QUANTUM = Decimal("0.000001")
_SECONDS_PER_MIN = Decimal(60)


def billed_seconds(billsec: int, increment_s: int) -> int:
    """``billsec`` rounded up to whole ``increment_s`` steps (0 stays 0)."""
    if billsec <= 0:
        return 0
    return -(-billsec // increment_s) * increment_s


@dataclass(frozen=True, slots=True)
class Charge:
    """A call's price: ``cost`` None when its trunk's deck has no rate for the number."""

    billsec: int
    billed_s: int
    cost: Decimal | None
    rate_per_min: Decimal | None = None
    increment_s: int | None = None


def charge(billsec: int, answered: bool, entry: RateEntry | None) -> Charge:
    """The price of ``billsec`` seconds at ``entry`` (the number's rate on the trunk)."""
    billsec = max(billsec, 0)
    if entry is None:
        return Charge(billsec, billsec, None)
    billed = billed_seconds(billsec, entry.billing_increment_s)
    if not answered:
        return Charge(billsec, 0, Decimal(0), entry.rate_per_min, entry.billing_increment_s)
    cost = entry.rate_per_min * billed / _SECONDS_PER_MIN + entry.connection_fee
    cost = cost.quantize(COST_QUANTUM, ROUND_HALF_UP)
    return Charge(billsec, billed, cost, entry.rate_per_min, entry.billing_increment_s)


@dataclass(frozen=True, slots=True)
class CostLine:
    """One stored CDR as the cost report reads it; ``cost`` None: not priced."""

    call_uuid: str
    campaign_id: int | None
    trunk: str
    started_at: datetime
    answered: bool
    billsec: int
    billed_s: int
    cost: Decimal | None
    agent: str
    queue_wait_s: int | None


def charge_of(facts: CdrFacts, received_at: datetime, priced: Charge | None) -> CostLine:
    """The cost line a store keeps for a CDR: started at its ``start_uepoch`` (its receipt
    when it has none), ``priced`` None: billsec as the switch counted it, no cost."""
    started = (
        datetime.fromtimestamp(facts.started_us / 1_000_000, UTC)
        if facts.started_us
        else received_at
    )
    priced = priced or Charge(facts.billsec, facts.billsec, None)
    return CostLine(
        call_uuid=facts.call_uuid,
        campaign_id=facts.campaign_id,
        trunk=facts.trunk,
        started_at=started,
        answered=facts.answered_us > 0,
        billsec=priced.billsec,
        billed_s=priced.billed_s,
        cost=priced.cost,
        agent=facts.agent,
        queue_wait_s=facts.queue_wait_s,
    )
