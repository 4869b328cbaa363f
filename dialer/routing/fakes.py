"""In-memory twins of the routing seams (`dialer.routing.ports`), for unit tests; the contract
tests in ``tests/contracts/`` hold each to its Redis adapter."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from dialer.clock import Clock
from dialer.routing.health import (
    HealthPolicy,
    TrunkHealth,
    claim_trial,
    on_call_result,
    on_gateway_status,
)
from dialer.routing.model import TrunkUsage
from dialer.routing.ports import Refusal, ReservationRequest, ReservationResult

_HEALTHY = TrunkHealth()


class InMemoryReservations:
    """`CapacityReservations` in one process, on ``clock``'s wall time (epoch seconds), as the
    Redis script is on the server's: leases, the CPS second and ``server_time_us`` all read it.

    ``rebuilt``: every trunk starts rebuilt under the first instance (a store whose lines
    are known, as most tests want); False: like a Redis that just started, every trunk is
    pending. `restart` plays a restart of the store (a new instance, with or without its
    data)."""

    def __init__(self, clock: Clock, *, rebuilt: bool = True) -> None:
        self._clock = clock
        self._slots: dict[str, dict[str, float]] = {}
        self._grants: dict[str, list[float]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._instance = 1
        self._initial_epoch = self._instance if rebuilt else 0
        self._epochs: dict[str, int] = {}
        self._fences: dict[str, tuple[str, float]] = {}

    def restart(self, *, keep_data: bool) -> None:
        """A new instance of the store; ``keep_data`` False: it comes back empty."""
        self._instance += 1
        self._initial_epoch = 0
        if not keep_data:
            self._slots.clear()
            self._grants.clear()
            self._counters.clear()
            self._epochs.clear()
            self._fences.clear()

    def pending_rebuild(self, trunks: Iterable[str]) -> list[str]:
        return [t for t in trunks if not self._rebuilt(t)]

    def begin_rebuild(self, trunks: Iterable[str], holder: str, ttl_s: float) -> list[str]:
        now = self._now_s()
        held = []
        for trunk in self.pending_rebuild(trunks):
            other, expiry = self._fences.get(trunk, ("", 0.0))
            if other and other != holder and expiry > now:
                continue
            self._fences[trunk] = (holder, now + ttl_s)
            held.append(trunk)
        return held

    def restore(self, trunk: str, call_uuids: Iterable[str], lease_s: float, holder: str) -> bool:
        now = self._now_s()
        other, expiry = self._fences.get(trunk, ("", 0.0))
        if other != holder or expiry <= now:
            return False
        self._slots[trunk] = {uuid: now + lease_s for uuid in call_uuids}
        self._epochs[trunk] = self._instance
        del self._fences[trunk]
        return True

    def _rebuilt(self, trunk: str) -> bool:
        return self._epochs.get(trunk, self._initial_epoch) == self._instance

    def reserve(self, request: ReservationRequest) -> ReservationResult:
        now = self._now_s()
        now_us = int(now * 1_000_000)
        if not self._rebuilt(request.trunk):
            return ReservationResult(False, Refusal.REBUILDING, now_us)
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


class InMemoryTrunkHealth:
    """`TrunkHealthStore` in one process; safe to share between threads."""

    def __init__(self, policy: HealthPolicy | None = None) -> None:
        self.policy = policy or HealthPolicy()
        self._health: dict[str, TrunkHealth] = {}
        self._lock = threading.Lock()

    def record(
        self, trunk: str, trunk_failure: bool | None, now_s: float, call_uuid: str = ""
    ) -> TrunkHealth:
        with self._lock:
            health = self._health.get(trunk, _HEALTHY)
            folded = on_call_result(health, trunk_failure, now_s, self.policy, call_uuid)
            return self._store(trunk, folded)

    def claim_trial(self, trunk: str, call_uuid: str, now_s: float) -> bool:
        with self._lock:
            claimed = claim_trial(self._health.get(trunk, _HEALTHY), call_uuid, now_s, self.policy)
            if claimed is None:
                return False
            self._store(trunk, claimed)
            return True

    def set_gateway(self, trunk: str, up: bool) -> TrunkHealth:
        with self._lock:
            health = self._health.get(trunk, _HEALTHY)
            return self._store(trunk, on_gateway_status(health, up))

    def snapshot(self, trunks: Iterable[str]) -> dict[str, TrunkHealth]:
        with self._lock:
            return {t: self._health[t] for t in trunks if t in self._health}

    def _store(self, trunk: str, health: TrunkHealth) -> TrunkHealth:
        if health == _HEALTHY:
            self._health.pop(trunk, None)
        else:
            self._health[trunk] = health
        return health
