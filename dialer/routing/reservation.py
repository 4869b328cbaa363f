"""Capacity reservation: the seam between routing and the shared state of many processes.

A reservation takes, together or not at all: a concurrency slot on the trunk (a lease keyed
by the call uuid that expires unless renewed, so a crashed process's slots free themselves),
a CPS token (at most ``max_cps`` grants in any sliding second), one count of the callee on
the trunk in the current cap window, and one count of the caller ID today. Releasing frees
the slot only; the counters are attempts and stay.

:class:`InMemoryReservations` is the fake with the same behaviour as the Redis script in
:mod:`dialer.routing.redis_reservation`; contract tests hold both to the same assertions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialer.clock import Clock
from dialer.routing.model import NumberWindow, TrunkUsage

_WINDOW_GRACE_S = 3600


class Refusal(enum.StrEnum):
    CONCURRENCY = "concurrency"
    CPS = "cps"
    PER_NUMBER_CAP = "per_number_cap"
    CALLER_ID_CAP = "caller_id_cap"


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """What one call needs on one trunk. A cap or limit of 0 means "no limit".

    ``number_window``/``caller_id_day`` name the calendar windows the counters belong to
    (see :func:`calendar_window`); their keys live ``*_ttl_s`` seconds.
    """

    call_uuid: str
    trunk: str
    max_concurrency: int
    max_cps: int
    lease_s: float
    number: str = ""
    per_number_cap: int = 0
    number_window: str = ""
    number_ttl_s: int = 0
    caller_id: str = ""
    caller_id_cap: int = 0
    caller_id_day: str = ""
    caller_id_ttl_s: int = 0


@dataclass(frozen=True, slots=True)
class ReservationResult:
    """``granted`` or the first ``refusal``; ``server_time_us`` is when the decision was taken."""

    granted: bool
    refusal: Refusal | None
    server_time_us: int


class CapacityReservations(Protocol):
    def reserve(self, request: ReservationRequest) -> ReservationResult: ...

    def release(self, trunk: str, call_uuid: str) -> bool:
        """Free the call's slot; False when it held none (already released or expired)."""
        ...

    def renew(self, trunk: str, call_uuid: str, lease_s: float) -> bool:
        """Extend a live lease (long calls); False when the lease is gone."""
        ...

    def usage(self, trunks: Iterable[str]) -> dict[str, TrunkUsage]:
        """Live slots and grants in the last second per trunk, for the router's snapshot."""
        ...


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


class InMemoryReservations:
    """The in-process fake, on ``clock``'s wall time (epoch seconds), as the Redis script is
    on the server's: leases, the CPS second and ``server_time_us`` all read it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._slots: dict[str, dict[str, float]] = {}
        self._grants: dict[str, list[float]] = {}
        self._counters: dict[str, tuple[int, float]] = {}

    def reserve(self, request: ReservationRequest) -> ReservationResult:
        now = self._now_s()
        now_us = int(now * 1_000_000)
        slots = self._live_slots(request.trunk, now)
        if request.call_uuid in slots:
            return ReservationResult(True, None, now_us)
        refusal = self._refusal(request, slots, now)
        if refusal is not None:
            return ReservationResult(False, refusal, now_us)
        slots[request.call_uuid] = now + request.lease_s
        grants = self._grants.setdefault(request.trunk, [])
        grants[:] = [g for g in grants if g > now - 1.0]
        grants.append(now)
        if request.per_number_cap:
            key = _number_key(request)
            self._bump(key, now + request.number_ttl_s, now)
        if request.caller_id_cap:
            self._bump(_caller_id_key(request), now + request.caller_id_ttl_s, now)
        return ReservationResult(True, None, now_us)

    def release(self, trunk: str, call_uuid: str) -> bool:
        slots = self._live_slots(trunk, self._now_s())
        return slots.pop(call_uuid, None) is not None

    def renew(self, trunk: str, call_uuid: str, lease_s: float) -> bool:
        now = self._now_s()
        slots = self._live_slots(trunk, now)
        if call_uuid not in slots:
            return False
        slots[call_uuid] = now + lease_s
        return True

    def usage(self, trunks: Iterable[str]) -> dict[str, TrunkUsage]:
        now = self._now_s()
        return {
            t: TrunkUsage(
                in_flight=len(self._live_slots(t, now)),
                calls_last_second=sum(1 for g in self._grants.get(t, []) if g > now - 1.0),
            )
            for t in trunks
        }

    def _now_s(self) -> float:
        return self._clock.now().timestamp()

    def _live_slots(self, trunk: str, now: float) -> dict[str, float]:
        slots = self._slots.setdefault(trunk, {})
        for uuid in [u for u, expiry in slots.items() if expiry <= now]:
            del slots[uuid]
        return slots

    def _refusal(
        self, request: ReservationRequest, slots: dict[str, float], now: float
    ) -> Refusal | None:
        if request.max_concurrency and len(slots) >= request.max_concurrency:
            return Refusal.CONCURRENCY
        if request.max_cps:
            recent = [t for t in self._grants.get(request.trunk, []) if t > now - 1.0]
            self._grants[request.trunk] = recent
            if len(recent) >= request.max_cps:
                return Refusal.CPS
        cap = request.per_number_cap
        if cap and self._count(_number_key(request), now) >= cap:
            return Refusal.PER_NUMBER_CAP
        cap = request.caller_id_cap
        if cap and self._count(_caller_id_key(request), now) >= cap:
            return Refusal.CALLER_ID_CAP
        return None

    def _count(self, key: str, now: float) -> int:
        count, expiry = self._counters.get(key, (0, 0.0))
        return count if expiry > now else 0

    def _bump(self, key: str, expiry: float, now: float) -> None:
        # Like INCR + EXPIRE-on-create: the window's expiry is set by its first call.
        count, old_expiry = self._counters.get(key, (0, 0.0))
        if old_expiry > now:
            self._counters[key] = (count + 1, old_expiry)
        else:
            self._counters[key] = (1, expiry)


def _number_key(request: ReservationRequest) -> str:
    return f"{request.trunk}|num|{request.number_window}|{request.number}"


def _caller_id_key(request: ReservationRequest) -> str:
    return f"{request.trunk}|cid|{request.caller_id_day}|{request.caller_id}"
