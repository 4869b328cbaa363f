"""Composition root of a Celery worker process: settings -> Redis, database, ESL connections.

One `EslClient` per FreeSWITCH node and process, opened on first use and kept: the pacing
threads of the process originate over it (bgapi; the listener reads the results).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import Settings
from dialer.esl.client import EslClient
from dialer.esl.seam import EslConnection, Subscription
from dialer.kv import connect_redis
from dialer.listener.adapters import RedisLiveState
from dialer.routing.redis_health import RedisTrunkHealth
from dialer.routing.redis_reservation import RedisReservations
from dialer.routing.store import load_routing_table
from dialer.runner.adapters import (
    EslSwitch,
    LiveStateView,
    RedisLeaseStore,
    SqlCampaignStore,
    running_campaign_ids,
)
from dialer.runner.ports import LeaseStore
from dialer.runner.tick import TickDeps

ESL_CONNECT_WAIT_S = 5.0


class PacingRuntime(Protocol):
    """What the pacing tasks need of their process."""

    @property
    def leases(self) -> LeaseStore: ...

    def tick_deps(self) -> TickDeps:
        """Dependencies of one slice (the routing table is re-read per slice)."""
        ...

    def running_campaigns(self) -> list[int]: ...

    def kick(self, campaign_id: int, ttl_s: int) -> bool:
        """True for the first caller within ``ttl_s`` for this campaign."""
        ...


@dataclass
class WorkerRuntime:
    settings: Settings
    client: redis.Redis[str]
    sessions: sessionmaker[Session]
    _connections: dict[str, EslConnection] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def leases(self) -> LeaseStore:
        return RedisLeaseStore(self.client)

    def _switch(self) -> EslSwitch:
        with self._lock:
            for node in self.settings.freeswitch_nodes:
                if node.name not in self._connections:
                    client = EslClient(
                        node.name,
                        node.host,
                        node.port,
                        node.password,
                        Subscription(events=()),
                        lambda _event: None,
                    ).start()
                    client.wait_connected(ESL_CONNECT_WAIT_S)
                    self._connections[node.name] = client
            return EslSwitch(self._connections)

    def tick_deps(self) -> TickDeps:
        with self.sessions() as session:
            table = load_routing_table(session)
        nodes = [n.name for n in self.settings.freeswitch_nodes]
        return TickDeps(
            SqlCampaignStore(self.sessions),
            LiveStateView(RedisLiveState(self.client), nodes),
            self._switch(),
            self.leases,
            RedisReservations(self.client),
            table,
            health=RedisTrunkHealth(self.client),
        )

    def running_campaigns(self) -> list[int]:
        return running_campaign_ids(self.sessions)

    def kick(self, campaign_id: int, ttl_s: int) -> bool:
        key = f"dialer:{{c{campaign_id}}}:kick"
        return bool(self.client.set(key, "1", nx=True, ex=ttl_s))


def worker_runtime() -> WorkerRuntime:
    from workers.context import app_context

    ctx = app_context()
    return WorkerRuntime(ctx.settings, connect_redis(ctx.settings.redis_url), ctx.sessions)
