"""Composition root of the event listener process: one connection and one worker per node.

``python -m workers.listener`` runs until SIGINT/SIGTERM. Wiring only; the logic is
`dialer.listener.service.NodeListener`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import FsNode, Settings
from dialer.esl.client import EslClient
from dialer.kv import connect_redis
from dialer.listener.adapters import RedisLiveState, SqlAttemptSink
from dialer.listener.ports import AttemptSink, LiveState, TrunkRelease
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from dialer.routing.redis_health import RedisTrunkHealth
from dialer.routing.redis_reservation import RedisReservations
from workers.tasks_post_call import enqueue_post_call

log = logging.getLogger(__name__)


@dataclass
class RunningNode:
    listener: NodeListener
    client: EslClient
    worker: threading.Thread

    def stop(self) -> None:
        self.client.close()
        self.listener.stop()
        self.worker.join(timeout=10)


def start_node(
    node: FsNode, live: LiveState, attempts: AttemptSink, trunks: TrunkRelease, **kw: Any
) -> RunningNode:
    """Start the listener of one node: its worker thread and its persistent connection."""
    listener = NodeListener(node.name, live, attempts, trunks, **kw)
    client = EslClient(
        node.name,
        node.host,
        node.port,
        node.password,
        LISTENER_SUBSCRIPTION,
        listener.on_event,
        listener.on_connect,
    )
    listener.attach(client)
    worker = threading.Thread(target=listener.run, name=f"listener-{node.name}", daemon=True)
    worker.start()
    client.start()
    return RunningNode(listener, client, worker)


def start_all(
    settings: Settings,
    client: redis.Redis[Any],
    sessions: sessionmaker[Session],
    notify: Callable[[int], None] = enqueue_post_call,
) -> list[RunningNode]:
    """One listener per configured node, sharing the Redis state and the database;
    ``notify(attempt_id)`` hands each recorded attempt to the post-call work."""
    live = RedisLiveState(client)
    attempts = SqlAttemptSink(sessions, notify=notify)
    trunks = RedisReservations(client)
    health = RedisTrunkHealth(client)
    return [
        start_node(node, live, attempts, trunks, health=health)
        for node in settings.freeswitch_nodes
    ]


def main() -> None:
    from workers.context import app_context

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ctx = app_context()
    client = connect_redis(ctx.settings.redis_url)
    nodes = start_all(ctx.settings, client, ctx.sessions)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    log.info("listening to %s", ", ".join(n.client.node for n in nodes))
    done.wait()
    for node in nodes:
        node.stop()


if __name__ == "__main__":
    main()
