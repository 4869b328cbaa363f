"""Real adapters of the nodes seams: the per-node state in Redis (one Lua script per
update, so the pacers and API processes never interleave inside one), and the switch's
figures over each node's Event Socket connection.

Keys, for prefix ``P`` and node ``N`` (one hash tag per node, one Redis Cluster slot):
  ``P:{N}``          hash: ``placed`` (calls placed ever), ``draining`` (1/0), the last
                     reading (``sessions``, ``mark``, ``sps``, ``max_sessions``, ``read_at``)
                     and the sps bucket (``tokens`` at ``tokens_at``, ``%.17g``)
  ``P:{N}:refresh``  who reads the node's ``status`` next (expires after ``every_s``)
Time is the caller's ``now_s`` (the clock the pacers tick with, the simulator's in a
simulated run), as trunk health's is: the bucket follows the switch's seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis

from dialer.config import FsNode
from dialer.esl.ports import EslClientKind, EslConnection, EslDisconnected
from dialer.esl.wiring import connect_once
from dialer.nodes.capacity import Limits
from dialer.nodes.ports import NodeRecord, NodeRefusal, Reading

__all__ = ["ConnectionStatusReader", "EslNodeApi", "RedisNodeStore"]

# KEYS: node hash; ARGV: now_s, max_sessions (-1: none), sps (-1: none), sessions per call.
# Mirrors `dialer.nodes.fakes.MemoryNodeStore.take` and `dialer.nodes.capacity.bucket_for`.
_TAKE = """
local f = redis.call('HMGET', KEYS[1], 'draining', 'placed', 'sessions', 'mark',
                     'tokens', 'tokens_at')
if f[1] == '1' then return 'draining' end
local placed = tonumber(f[2] or '0')
local per_call = tonumber(ARGV[4])
local most = tonumber(ARGV[2])
if most >= 0 then
  local in_use = tonumber(f[3] or '0') + per_call * math.max(placed - tonumber(f[4] or '0'), 0)
  if in_use + per_call > most then return 'sessions' end
end
local sps = tonumber(ARGV[3])
if sps >= 0 then
  local half = math.max(sps, 0) / 2.0
  local now = tonumber(ARGV[1])
  local from = tonumber(f[6] or ARGV[1])
  local at = math.max(from, now)
  local tokens = tonumber(f[5] or string.format('%.17g', half))
  tokens = math.min(half, tokens + math.max(at - from, 0) * half)
  if tokens < 1.0 then
    redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
               'tokens_at', string.format('%.17g', at))
    return 'sps'
  end
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - 1.0),
             'tokens_at', string.format('%.17g', at))
end
redis.call('HINCRBY', KEYS[1], 'placed', 1)
return ''
"""

# KEYS: node hash; ARGV: sessions, mark, sps, max_sessions, read_at. A newer reading stays.
_RECORD = """
local kept = redis.call('HGET', KEYS[1], 'read_at')
if kept and tonumber(kept) > tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'sessions', ARGV[1], 'mark', ARGV[2], 'sps', ARGV[3],
           'max_sessions', ARGV[4], 'read_at', ARGV[5])
return 1
"""

_FIELDS = ("placed", "draining", "sessions", "mark", "sps", "max_sessions", "read_at",
           "tokens", "tokens_at")  # fmt: skip


class RedisNodeStore:
    """`dialer.nodes.ports.NodeStore` over Redis (or a Cluster)."""

    def __init__(self, client: redis.Redis[Any], prefix: str = "dialer:node") -> None:
        self._client = client
        self._prefix = prefix
        self._take = client.register_script(_TAKE)
        self._record = client.register_script(_RECORD)

    def _key(self, node: str) -> str:
        return f"{self._prefix}:{{{node}}}"

    def records(self, nodes: Sequence[str]) -> dict[str, NodeRecord]:
        pipe = self._client.pipeline(transaction=False)
        for node in nodes:
            pipe.hmget(self._key(node), _FIELDS)
        return {
            node: _record_of(node, [_text(v) for v in values])
            for node, values in zip(nodes, pipe.execute(), strict=True)
        }

    def mark(self, node: str) -> int:
        return int(self._client.hget(self._key(node), "placed") or 0)

    def record(self, node: str, reading: Reading) -> None:
        args = [reading.sessions, reading.mark, reading.sps, reading.max_sessions,
                f"{reading.at_s:.17g}"]  # fmt: skip
        self._record(keys=[self._key(node)], args=args)

    def take(
        self, node: str, limits: Limits, sessions_per_call: int, now_s: float
    ) -> NodeRefusal | None:
        most = -1 if limits.max_sessions is None else limits.max_sessions
        sps = -1 if limits.sps is None else limits.sps
        reply = _text(
            self._take(keys=[self._key(node)], args=[f"{now_s:.17g}", most, sps, sessions_per_call])
        )
        return NodeRefusal(reply) if reply else None

    def set_draining(self, node: str, draining: bool) -> None:
        self._client.hset(self._key(node), "draining", "1" if draining else "0")

    def claim_refresh(self, node: str, every_s: float) -> bool:
        ttl_ms = max(int(every_s * 1000), 1)
        return bool(self._client.set(f"{self._key(node)}:refresh", "1", nx=True, px=ttl_ms))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _record_of(node: str, v: list[str | None]) -> NodeRecord:
    placed, draining, sessions, mark, sps, most, read_at, tokens, tokens_at = v
    reading = None
    if read_at is not None:
        reading = Reading(
            sessions=int(sessions or 0),
            sps=int(sps or 0),
            max_sessions=int(most or 0),
            mark=int(mark or 0),
            at_s=float(read_at),
        )
    return NodeRecord(
        name=node,
        reading=reading,
        placed=int(placed or 0),
        draining=draining == "1",
        tokens=None if tokens is None else float(tokens),
        tokens_at_s=None if tokens_at is None else float(tokens_at),
    )


class ConnectionStatusReader:
    """`dialer.nodes.ports.StatusReader` over the process's own connection to each node."""

    def __init__(self, connections: Mapping[str, EslConnection], timeout_s: float = 2.0):
        self._connections = connections
        self._timeout_s = timeout_s

    def api(self, node: str, command: str) -> str:
        connection = self._connections.get(node)
        if connection is None:
            raise EslDisconnected(f"no connection to node {node}")
        return connection.api(command, self._timeout_s)


class EslNodeApi:
    """`NodeApi` over the Event Socket: one short connection per command
    (`dialer.esl.wiring.connect_once`)."""

    def __init__(
        self, kind: EslClientKind, nodes: Sequence[FsNode], timeout_s: float = 5.0
    ) -> None:
        self._kind = kind
        self._nodes = {n.name: n for n in nodes}
        self._timeout_s = timeout_s

    def names(self) -> list[str]:
        return list(self._nodes)

    def api(self, node: str, command: str) -> str:
        endpoint = self._nodes[node]
        conn = connect_once(self._kind, endpoint, self._timeout_s)
        try:
            return conn.api(command, self._timeout_s)
        finally:
            conn.close()
