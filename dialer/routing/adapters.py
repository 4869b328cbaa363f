"""Redis adapters of the routing seams (`dialer.routing.ports`), for one Redis or a Cluster.

Each is one Lua script per update, so many processes never interleave inside one. All keys of
a trunk share the hash tag ``{trunk}`` so that a script touching them runs on one Redis
Cluster node.

`RedisReservations` (`CapacityReservations`) takes every limit of a call or none, on the
server's time (``TIME``), so the clocks of many pacer hosts never disagree about leases or the
CPS window. Keys, for prefix ``P`` and trunk ``T``:
  ``P:{T}:slots``   sorted set call uuid -> lease expiry (us)
  ``P:{T}:cps``     sorted set uuid@time -> grant time (us), pruned to the last second
  ``P:{T}:num:W:N`` calls to number N in window W (expires with the window)
  ``P:{T}:cid:D:C`` calls from caller ID C on day D (expires with the day)
  ``P:{T}:epoch``   the ``run_id`` of the Redis instance the slots were last rebuilt under
  ``P:{T}:rebuild`` the holder of the trunk's rebuild fence (expires)
Every script reads the instance's ``run_id`` from ``INFO server`` itself, so a restarted Redis
(a new ``run_id``, with or without its data) refuses reservations on a trunk until
``restore`` wrote its lines again, whatever a client believes about the server it talks to.

`RedisTrunkHealth` (`TrunkHealthStore`) applies the pure reducers of `dialer.routing.health`
to the stored value. Key, for prefix ``P`` and trunk ``T``: ``P:{T}`` a hash ``up`` (1/0),
``failures`` (consecutive trunk failures), ``until`` (suspended until, epoch seconds,
``%.17g`` so the stored float is exactly the computed one; 0 = not suspended), ``trial``
(the trial call's uuid, "" none) and ``trial_until`` (when another trial may go). A trunk back
to the initial state is deleted. Time is the caller's ``now_s`` (the listener's clock, which
is also the clock the pacers route with), not Redis's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from dialer.routing.health import HealthPolicy, TrunkHealth
from dialer.routing.model import TrunkUsage
from dialer.routing.ports import Refusal, ReservationRequest, ReservationResult

_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local uuid = ARGV[1]
local max_conc = tonumber(ARGV[2])
local max_cps = tonumber(ARGV[3])
local lease_us = tonumber(ARGV[4])
local num_cap = tonumber(ARGV[5])
local num_ttl = tonumber(ARGV[6])
local cid_cap = tonumber(ARGV[7])
local cid_ttl = tonumber(ARGV[8])
if redis.call('GET', KEYS[5]) ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then
  return {0, 'lines_not_rebuilt', now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], uuid) then
  return {1, '', now}
end
if max_conc > 0 and redis.call('ZCARD', KEYS[1]) >= max_conc then
  return {0, 'concurrency', now}
end
if max_cps > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000000)
  if redis.call('ZCARD', KEYS[2]) >= max_cps then
    return {0, 'cps', now}
  end
end
if num_cap > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= num_cap then
  return {0, 'per_number_cap', now}
end
if cid_cap > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= cid_cap then
  return {0, 'caller_id_cap', now}
end
redis.call('ZADD', KEYS[1], now + lease_us, uuid)
if max_cps <= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000000)
end
redis.call('ZADD', KEYS[2], now, uuid .. '@' .. now)
redis.call('PEXPIRE', KEYS[2], 2000)
if num_cap > 0 and redis.call('INCR', KEYS[3]) == 1 then
  redis.call('EXPIRE', KEYS[3], num_ttl)
end
if cid_cap > 0 and redis.call('INCR', KEYS[4]) == 1 then
  redis.call('EXPIRE', KEYS[4], cid_ttl)
end
return {1, '', now}
"""

# ARGV[1] = uuid, ARGV[2] = 'release' | 'renew', ARGV[3] = new lease (us) for renew.
_LEASE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] == 'release' then
  return {redis.call('ZREM', KEYS[1], ARGV[1]), now}
end
return {redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[3]), ARGV[1]), now}
"""

_RUN_ID_LUA = "string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')"

# KEYS[1] = epoch. 1 when the trunk's lines were not rebuilt under this instance.
_PENDING_LUA = f"""
if redis.call('GET', KEYS[1]) == {_RUN_ID_LUA} then
  return 0
end
return 1
"""

# KEYS[1] = epoch, KEYS[2] = fence; ARGV[1] = holder, ARGV[2] = fence ttl (ms).
# 1 when the holder holds the fence of a pending trunk.
_BEGIN_LUA = f"""
if redis.call('GET', KEYS[1]) == {_RUN_ID_LUA} then
  return 0
end
local held = redis.call('GET', KEYS[2])
if held and held ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
"""

# KEYS[1] = slots, KEYS[2] = epoch, KEYS[3] = fence; ARGV[1] = holder, ARGV[2] = lease (us),
# ARGV[3..] = call uuids up on the trunk.
_RESTORE_LUA = f"""
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
redis.call('SET', KEYS[2], {_RUN_ID_LUA})
redis.call('DEL', KEYS[3])
return 1
"""

_USAGE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return {redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'),
        redis.call('ZCOUNT', KEYS[2], '(' .. (now - 1000000), '+inf')}
"""


class RedisReservations:
    """`dialer.routing.ports.CapacityReservations` over Redis (or a Cluster)."""

    def __init__(self, client: redis.Redis[Any], prefix: str = "dialer:cap") -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE_LUA)
        self._lease = client.register_script(_LEASE_LUA)
        self._usage = client.register_script(_USAGE_LUA)
        self._pending = client.register_script(_PENDING_LUA)
        self._begin = client.register_script(_BEGIN_LUA)
        self._restore = client.register_script(_RESTORE_LUA)

    def keys(self, request: ReservationRequest) -> list[str]:
        base = f"{self._prefix}:{{{request.trunk}}}"
        return [
            f"{base}:slots",
            f"{base}:cps",
            f"{base}:num:{request.number_window}:{request.number}",
            f"{base}:cid:{request.caller_id_day}:{request.caller_id}",
            f"{base}:epoch",
        ]

    def reserve(self, request: ReservationRequest) -> ReservationResult:
        reply = self._reserve(keys=self.keys(request), args=self.args(request))
        return _parse_reservation(reply)

    def reserve_many(self, requests: Iterable[ReservationRequest]) -> list[ReservationResult]:
        """Reserve several calls in one round trip; each is still all-or-nothing on its own."""
        pipe = self._client.pipeline(transaction=False)
        for request in requests:
            self._reserve(keys=self.keys(request), args=self.args(request), client=pipe)
        return [_parse_reservation(reply) for reply in pipe.execute()]

    def release(self, trunk: str, call_uuid: str) -> bool:
        return self.release_at(trunk, call_uuid)[0]

    def release_at(self, trunk: str, call_uuid: str) -> tuple[bool, int]:
        """Release, also returning the server time (us) at which the slot was freed."""
        freed, now_us = self._lease(keys=[self._slots(trunk)], args=[call_uuid, "release", 0])
        return bool(int(freed)), int(now_us)

    def renew(self, trunk: str, call_uuid: str, lease_s: float) -> bool:
        lease_us = int(lease_s * 1_000_000)
        renewed, _ = self._lease(keys=[self._slots(trunk)], args=[call_uuid, "renew", lease_us])
        return bool(int(renewed))

    def usage(self, trunks: Iterable[str]) -> dict[str, TrunkUsage]:
        names = list(trunks)
        pipe = self._client.pipeline(transaction=False)
        for trunk in names:
            base = f"{self._prefix}:{{{trunk}}}"
            self._usage(keys=[f"{base}:slots", f"{base}:cps"], client=pipe)
        replies = pipe.execute()
        return {
            name: TrunkUsage(in_flight=int(r[0]), calls_last_second=int(r[1]))
            for name, r in zip(names, replies, strict=True)
        }

    def pending_rebuild(self, trunks: Iterable[str]) -> list[str]:
        names = list(trunks)
        pipe = self._client.pipeline(transaction=False)
        for trunk in names:
            self._pending(keys=[self._key(trunk, "epoch")], client=pipe)
        replies = pipe.execute()
        return [name for name, pending in zip(names, replies, strict=True) if int(pending)]

    def begin_rebuild(self, trunks: Iterable[str], holder: str, ttl_s: float) -> list[str]:
        names = list(trunks)
        pipe = self._client.pipeline(transaction=False)
        for trunk in names:
            keys = [self._key(trunk, "epoch"), self._key(trunk, "rebuild")]
            self._begin(keys=keys, args=[holder, max(1, int(ttl_s * 1000))], client=pipe)
        replies = pipe.execute()
        return [name for name, held in zip(names, replies, strict=True) if int(held)]

    def restore(self, trunk: str, call_uuids: Iterable[str], lease_s: float, holder: str) -> bool:
        keys = [self._slots(trunk), self._key(trunk, "epoch"), self._key(trunk, "rebuild")]
        args = [holder, int(lease_s * 1_000_000), *call_uuids]
        return bool(int(self._restore(keys=keys, args=args)))

    def _slots(self, trunk: str) -> str:
        return self._key(trunk, "slots")

    def _key(self, trunk: str, name: str) -> str:
        return f"{self._prefix}:{{{trunk}}}:{name}"

    @staticmethod
    def args(request: ReservationRequest) -> list[Any]:
        return [
            request.call_uuid,
            request.max_concurrency,
            request.max_cps,
            int(request.lease_s * 1_000_000),
            request.per_number_cap,
            request.number_ttl_s,
            request.caller_id_cap,
            request.caller_id_ttl_s,
        ]


def _parse_reservation(reply: Any) -> ReservationResult:
    granted, reason, now_us = reply
    if isinstance(reason, bytes):
        reason = reason.decode()
    refusal = Refusal(reason) if reason else None
    return ReservationResult(bool(int(granted)), refusal, int(now_us))


# ARGV[1] = 'call' | 'gateway' | 'trial'.
# call: ARGV[2] = '1' trunk failure / '0' success / '' no verdict, ARGV[3] = now_s,
#   ARGV[4] = failure_threshold, ARGV[5] = cooldown_s, ARGV[6] = call uuid;
# gateway: ARGV[2] = '1' up / '0';
# trial: ARGV[2] = call uuid, ARGV[3] = now_s, ARGV[4] = trial_lease_s.
# Returns the health and, last, 1 when a trial was granted.
# Mirrors on_call_result / on_gateway_status / claim_trial line for line.
_UPDATE_LUA = """
local h = redis.call('HMGET', KEYS[1], 'up', 'failures', 'until', 'trial', 'trial_until')
local up = h[1] ~= '0'
local failures = tonumber(h[2] or '0')
local until_s = tonumber(h[3] or '0')
local trial = h[4] or ''
local trial_until = tonumber(h[5] or '0')
local granted = 0
if ARGV[1] == 'gateway' then
  up = ARGV[2] == '1'
elseif ARGV[1] == 'trial' then
  local now = tonumber(ARGV[3])
  local probe = up and until_s ~= 0 and now >= until_s and (trial == '' or now >= trial_until)
  if ARGV[2] ~= '' and probe then
    trial = ARGV[2]
    trial_until = now + tonumber(ARGV[4])
    granted = 1
  end
elseif until_s ~= 0 then
  if ARGV[6] ~= '' and ARGV[6] == trial then
    if ARGV[2] == '0' then
      failures = 0
      until_s = 0
    elseif ARGV[2] == '1' then
      failures = failures + 1
      until_s = tonumber(ARGV[3]) + tonumber(ARGV[5])
    end
    trial = ''
    trial_until = 0
  end
elseif ARGV[2] == '1' then
  failures = failures + 1
  if failures >= tonumber(ARGV[4]) then
    until_s = tonumber(ARGV[3]) + tonumber(ARGV[5])
  end
elseif ARGV[2] == '0' then
  failures = 0
end
local until_text = string.format('%.17g', until_s)
local trial_until_text = string.format('%.17g', trial_until)
if up and failures == 0 and until_s == 0 and trial == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'up', up and '1' or '0', 'failures', failures, 'until', until_text,
    'trial', trial, 'trial_until', trial_until_text)
end
return {up and 1 or 0, failures, until_text, trial, trial_until_text, granted}
"""
_HEALTH_FIELDS = ["up", "failures", "until", "trial", "trial_until"]


class RedisTrunkHealth:
    """`dialer.routing.ports.TrunkHealthStore` over Redis (or a Cluster)."""

    def __init__(
        self,
        client: redis.Redis[Any],
        policy: HealthPolicy | None = None,
        prefix: str = "dialer:health",
    ) -> None:
        self.policy = policy or HealthPolicy()
        self._client = client
        self._prefix = prefix
        self._update = client.register_script(_UPDATE_LUA)

    def key(self, trunk: str) -> str:
        return f"{self._prefix}:{{{trunk}}}"

    def record(
        self, trunk: str, trunk_failure: bool | None, now_s: float, call_uuid: str = ""
    ) -> TrunkHealth:
        policy = self.policy
        verdict = "" if trunk_failure is None else int(trunk_failure)
        args = [
            "call", verdict, repr(now_s), policy.failure_threshold, repr(policy.cooldown_s),
            call_uuid,
        ]  # fmt: skip
        return _parse_health(self._update(keys=[self.key(trunk)], args=args))

    def set_gateway(self, trunk: str, up: bool) -> TrunkHealth:
        return _parse_health(self._update(keys=[self.key(trunk)], args=["gateway", int(up)]))

    def claim_trial(self, trunk: str, call_uuid: str, now_s: float) -> bool:
        args = ["trial", call_uuid, repr(now_s), repr(self.policy.trial_lease_s)]
        reply = self._update(keys=[self.key(trunk)], args=args)
        return bool(int(reply[5]))

    def snapshot(self, trunks: Iterable[str]) -> dict[str, TrunkHealth]:
        names = list(trunks)
        pipe = self._client.pipeline(transaction=False)
        for trunk in names:
            pipe.hmget(self.key(trunk), _HEALTH_FIELDS)
        replies = pipe.execute()
        return {
            name: _parse_health(reply)
            for name, reply in zip(names, replies, strict=True)
            if reply[0] is not None
        }


def _parse_health(reply: Any) -> TrunkHealth:
    up, failures, until_s, trial, trial_until_s = (
        v.decode() if isinstance(v, bytes) else v for v in list(reply)[:5]
    )
    return TrunkHealth(
        gateway_up=str(up) != "0",
        consecutive_failures=int(failures),
        suspended_until_s=float(until_s),
        trial_call=trial or "",
        trial_until_s=float(trial_until_s or 0),
    )
