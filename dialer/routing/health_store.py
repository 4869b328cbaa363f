"""Shared trunk health: the seam between the listeners that observe calls and the pacers.

The listeners of every node fold each ended call into its trunk's :class:`TrunkHealth`
(``record``), gateway status checks set ``gateway_up`` (``set_gateway``), and the pacers read
the table's trunks once per tick (``snapshot``) for the router's ``UsageSnapshot.health``.

Every update is the pure reducer of :mod:`dialer.routing.health` applied atomically to the
stored value, so many listener processes never lose a failure or a success. A trunk whose
health is back to the initial state (gateway up, no failures, never suspended) is not stored
and is absent from snapshots, which the router reads as healthy.

:class:`InMemoryTrunkHealth` is the fake; :class:`~dialer.routing.redis_health.RedisTrunkHealth`
the Redis adapter; the contract tests hold both to the reducers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol

from dialer.routing.health import HealthPolicy, TrunkHealth, on_call_result, on_gateway_status

_HEALTHY = TrunkHealth()


class TrunkHealthStore(Protocol):
    def record(self, trunk: str, trunk_failure: bool, now_s: float) -> TrunkHealth:
        """Fold one call result in (``on_call_result``); ``now_s`` epoch seconds."""
        ...

    def set_gateway(self, trunk: str, up: bool) -> TrunkHealth:
        """Fold a gateway status in (``on_gateway_status``)."""
        ...

    def snapshot(self, trunks: Iterable[str]) -> dict[str, TrunkHealth]:
        """The stored health of those trunks; healthy trunks are absent."""
        ...


class InMemoryTrunkHealth:
    """The in-process fake; safe to share between threads."""

    def __init__(self, policy: HealthPolicy | None = None) -> None:
        self.policy = policy or HealthPolicy()
        self._health: dict[str, TrunkHealth] = {}
        self._lock = threading.Lock()

    def record(self, trunk: str, trunk_failure: bool, now_s: float) -> TrunkHealth:
        with self._lock:
            health = self._health.get(trunk, _HEALTHY)
            return self._store(trunk, on_call_result(health, trunk_failure, now_s, self.policy))

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
