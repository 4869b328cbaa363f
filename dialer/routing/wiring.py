"""Wiring of the routing adapters: the trunk state every process of a deployment shares.

The pacers reserve trunk capacity and read trunk health; the listeners free the capacity at
hangup and record the health. Both build that state here, from one Redis client and one key
namespace, so they always meet on the same keys: ``<namespace>:cap:*`` for capacity
(`dialer.routing.adapters.RedisReservations`), ``<namespace>:health:*`` for health
(`dialer.routing.adapters.RedisTrunkHealth`). The deployment's namespace is ``dialer``; the
demo and the tests keep theirs apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from dialer.routing.adapters import RedisReservations, RedisTrunkHealth
from dialer.routing.health import HealthPolicy
from dialer.routing.ports import CapacityReservations, TrunkHealthStore

__all__ = ["DEFAULT_NAMESPACE", "TrunkState", "redis_trunk_state"]

DEFAULT_NAMESPACE = "dialer"


@dataclass(frozen=True, slots=True)
class TrunkState:
    """Capacity reservations and trunk health; ``health`` None: health is not kept and every
    trunk counts as healthy."""

    reservations: CapacityReservations
    health: TrunkHealthStore | None = None


def redis_trunk_state(
    client: redis.Redis[Any],
    namespace: str = DEFAULT_NAMESPACE,
    policy: HealthPolicy | None = None,
    *,
    keep_health: bool = True,
) -> TrunkState:
    """The trunk state in Redis under ``namespace``; health judged by ``policy``."""
    reservations = RedisReservations(client, prefix=f"{namespace}:cap")
    if not keep_health:
        return TrunkState(reservations)
    return TrunkState(reservations, RedisTrunkHealth(client, policy, prefix=f"{namespace}:health"))
