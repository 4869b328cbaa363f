"""Campaign leases: at most one pacer paces a campaign, and a late one can prove nothing.

A lease names its holder and carries a fencing token that grows with every grant, so an
action stamped with a token from a lapsed lease is recognizably stale (``is_current``).
Leases expire by themselves: a dead worker's campaigns are free again after ``ttl_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dialer.clock import Clock

if TYPE_CHECKING:
    import redis


@dataclass(frozen=True, slots=True)
class Lease:
    campaign_id: int
    owner: str
    token: int


class LeaseStore(Protocol):
    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        """A new lease with a token above every earlier one, or None while another holds it."""

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        """Extend ``lease``; False when it lapsed or another lease replaced it."""

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` up if it is still the current one."""

    def is_current(self, lease: Lease) -> bool: ...

    def holder(self, campaign_id: int) -> Lease | None: ...


def _lease_key(campaign_id: int) -> str:
    # One hash tag per campaign keeps a campaign's keys in one Redis Cluster slot.
    return f"dialer:{{c{campaign_id}}}:lease"


def _fence_key(campaign_id: int) -> str:
    return f"dialer:{{c{campaign_id}}}:fence"


_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
"""
_RENEW = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


class RedisLeaseStore:
    def __init__(self, client: redis.Redis[str]) -> None:
        self._redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        keys = [_lease_key(campaign_id), _fence_key(campaign_id)]
        token = self._acquire(keys=keys, args=[owner, ttl_ms])
        return None if token is None else Lease(campaign_id, owner, int(token))

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        keys = [_lease_key(lease.campaign_id)]
        return bool(self._renew(keys=keys, args=[lease.token, ttl_ms]))

    def release(self, lease: Lease) -> bool:
        return bool(self._release(keys=[_lease_key(lease.campaign_id)], args=[lease.token]))

    def is_current(self, lease: Lease) -> bool:
        return self._redis.hget(_lease_key(lease.campaign_id), "token") == str(lease.token)

    def holder(self, campaign_id: int) -> Lease | None:
        found = self._redis.hgetall(_lease_key(campaign_id))
        if not found:
            return None
        return Lease(campaign_id, found["owner"], int(found["token"]))


class MemoryLeaseStore:
    """The in-memory twin for unit tests and the simulator; a lease lives ``ttl_ms`` of the
    clock's monotonic time, as a Redis lease lives ``ttl_ms`` of the server's."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._leases: dict[int, tuple[Lease, float]] = {}
        self._fences: dict[int, int] = {}

    def _live(self, campaign_id: int) -> Lease | None:
        held = self._leases.get(campaign_id)
        if held is None or held[1] <= self._clock.monotonic_s():
            self._leases.pop(campaign_id, None)
            return None
        return held[0]

    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        if self._live(campaign_id) is not None:
            return None
        token = self._fences.get(campaign_id, 0) + 1
        self._fences[campaign_id] = token
        lease = Lease(campaign_id, owner, token)
        self._leases[campaign_id] = (lease, self._clock.monotonic_s() + ttl_ms / 1000)
        return lease

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        if self._live(lease.campaign_id) != lease:
            return False
        self._leases[lease.campaign_id] = (lease, self._clock.monotonic_s() + ttl_ms / 1000)
        return True

    def release(self, lease: Lease) -> bool:
        if self._live(lease.campaign_id) != lease:
            return False
        del self._leases[lease.campaign_id]
        return True

    def is_current(self, lease: Lease) -> bool:
        return self._live(lease.campaign_id) == lease

    def holder(self, campaign_id: int) -> Lease | None:
        return self._live(campaign_id)
