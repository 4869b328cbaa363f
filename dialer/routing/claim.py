"""From a route decision to a reserved trunk: walk the candidates, reserve the first that fits.

The router ranks on a snapshot; the reservation is the authority. A candidate whose limits
were reached in the meantime is skipped (failover by capacity) and the refusal reported; the
caller passes the trunks already tried when it fails over after a trunk rejected the call.
A probe candidate (a suspended trunk whose cooldown ended) is taken only when this call wins
the trunk's one trial (``TrunkHealthStore.claim_trial``); a trial won but not reserved is
given back at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialer.routing.model import NumberWindow, Trunk
from dialer.routing.ports import (
    CapacityReservations,
    Refusal,
    ReservationRequest,
    TrunkHealthStore,
)
from dialer.routing.router import Candidate, RouteDecision

_WINDOW_GRACE_S = 3600


@dataclass(frozen=True, slots=True)
class Claim:
    """``candidate`` None when no candidate could be reserved; ``refused`` says why each failed."""

    candidate: Candidate | None
    refused: tuple[tuple[str, Refusal], ...]


def calendar_window(now: datetime, time_zone: str, window: NumberWindow) -> tuple[str, int]:
    """The window containing aware ``now`` in ``time_zone`` and seconds until it ends + 1 h.

    Day windows are named ``2026-11-21``, week windows (Monday first) ``2026-W47``.
    """
    local = now.astimezone(ZoneInfo(time_zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if window is NumberWindow.WEEK:
        start -= timedelta(days=local.weekday())
        iso = local.isocalendar()
        name, days = f"{iso.year}-W{iso.week:02d}", 7
    else:
        name, days = local.date().isoformat(), 1
    end = (start.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=local.tzinfo)
    remaining = int((end - local).total_seconds())
    return name, max(remaining, 1) + _WINDOW_GRACE_S


def _reservation_for(
    candidate: Candidate, trunk: Trunk, number: str, call_uuid: str, now: datetime, lease_s: float
) -> ReservationRequest:
    """Everything ``trunk`` limits, for one call to E.164 ``number`` through ``candidate``."""
    number_window, number_ttl = calendar_window(now, trunk.time_zone, trunk.per_number_window)
    cid_day, cid_ttl = calendar_window(now, trunk.time_zone, NumberWindow.DAY)
    return ReservationRequest(
        call_uuid=call_uuid,
        trunk=trunk.name,
        max_concurrency=trunk.max_concurrency,
        max_cps=trunk.max_cps,
        lease_s=lease_s,
        number=number.lstrip("+"),
        per_number_cap=trunk.per_number_cap,
        number_window=number_window,
        number_ttl_s=number_ttl,
        caller_id=candidate.caller_id or "",
        caller_id_cap=candidate.caller_id_cap if candidate.caller_id else 0,
        caller_id_day=cid_day,
        caller_id_ttl_s=cid_ttl,
    )


def claim(
    decision: RouteDecision,
    trunks: Mapping[str, Trunk],
    reservations: CapacityReservations,
    call_uuid: str,
    now: datetime,
    lease_s: float,
    tried: Collection[str] = (),
    health: TrunkHealthStore | None = None,
) -> Claim:
    """Reserve the best candidate not in ``tried`` whose limits all still hold (and, for a
    probe candidate, whose trial ``call_uuid`` won; ``health`` None: probes go unclaimed)."""
    refused: list[tuple[str, Refusal]] = []
    now_s = now.timestamp()
    for candidate in decision.candidates:
        if candidate.trunk in tried:
            continue
        trials = health if candidate.probe else None
        if trials is not None and not trials.claim_trial(candidate.trunk, call_uuid, now_s):
            refused.append((candidate.trunk, Refusal.TRIAL_TAKEN))
            continue
        request = _reservation_for(
            candidate, trunks[candidate.trunk], decision.number, call_uuid, now, lease_s
        )
        result = reservations.reserve(request)
        if result.granted:
            return Claim(candidate, tuple(refused))
        if trials is not None:
            trials.record(candidate.trunk, None, now_s, call_uuid)  # not placed: void
        assert result.refusal is not None
        refused.append((candidate.trunk, result.refusal))
    return Claim(None, tuple(refused))
