"""Trunk health in Redis: one Lua script applies the pure reducers of
:mod:`dialer.routing.health` to the stored value, so concurrent listeners never lose an update.

Key, for prefix ``P`` and trunk ``T``: ``P:{T}`` a hash ``up`` (1/0), ``failures``
(consecutive trunk failures), ``until`` (suspended until, epoch seconds, ``%.17g`` so the
stored float is exactly the computed one; 0 = never suspended). A trunk back to the initial
state is deleted. Time is the caller's ``now_s`` (the listener's clock, which is also the
clock the pacers route with), not Redis's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from dialer.routing.health import HealthPolicy, TrunkHealth

# ARGV[1] = 'call' | 'gateway'; call: ARGV[2] = '1' trunk failure / '0' success, ARGV[3] =
# now_s, ARGV[4] = failure_threshold, ARGV[5] = cooldown_s; gateway: ARGV[2] = '1' up / '0'.
# Mirrors on_call_result / on_gateway_status line for line.
_UPDATE_LUA = """
local h = redis.call('HMGET', KEYS[1], 'up', 'failures', 'until')
local up = h[1] ~= '0'
local failures = tonumber(h[2] or '0')
local until_s = tonumber(h[3] or '0')
if ARGV[1] == 'gateway' then
  up = ARGV[2] == '1'
elseif ARGV[2] == '1' then
  local now = tonumber(ARGV[3])
  failures = failures + 1
  local probing = until_s ~= 0 and now >= until_s
  if failures >= tonumber(ARGV[4]) or probing then
    until_s = now + tonumber(ARGV[5])
  end
else
  failures = 0
  until_s = 0
end
local until_text = string.format('%.17g', until_s)
if up and failures == 0 and until_s == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'up', up and '1' or '0', 'failures', failures, 'until', until_text)
end
return {up and 1 or 0, failures, until_text}
"""


class RedisTrunkHealth:
    """:class:`~dialer.routing.health_store.TrunkHealthStore` over Redis (or a Cluster)."""

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

    def record(self, trunk: str, trunk_failure: bool, now_s: float) -> TrunkHealth:
        policy = self.policy
        args = ["call", int(trunk_failure), now_s, policy.failure_threshold, policy.cooldown_s]
        return _parse(self._update(keys=[self.key(trunk)], args=args))

    def set_gateway(self, trunk: str, up: bool) -> TrunkHealth:
        return _parse(self._update(keys=[self.key(trunk)], args=["gateway", int(up)]))

    def snapshot(self, trunks: Iterable[str]) -> dict[str, TrunkHealth]:
        names = list(trunks)
        pipe = self._client.pipeline(transaction=False)
        for trunk in names:
            pipe.hmget(self.key(trunk), ["up", "failures", "until"])
        replies = pipe.execute()
        return {
            name: _parse(reply)
            for name, reply in zip(names, replies, strict=True)
            if reply[0] is not None
        }


def _parse(reply: Any) -> TrunkHealth:
    up, failures, until_s = (v.decode() if isinstance(v, bytes) else v for v in reply)
    return TrunkHealth(
        gateway_up=str(up) != "0",
        consecutive_failures=int(failures),
        suspended_until_s=float(until_s),
    )
