"""Wiring of the event listener: a running `NodeListener` per FreeSWITCH node.

`start_listener` runs one node's listener on whichever seams it is given (the real adapters
or the in-memory ones): its worker thread and its persistent Event Socket connection.
`node_listeners` starts one per configured node on the real adapters: live state and trunk
state in Redis under one key namespace (`dialer.routing.wiring`), attempt records and the
abandon safety stop in the database; after each (re)connect of a node, before the listener
reconciles, the node's agents are made to match the database (`dialer.agents.wiring.agent_sync`),
so a switch that restarted gets them back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.agents.wiring import agent_sync
from dialer.cdr.adapters import SqlCdrStore
from dialer.cdr.ports import CdrLookup
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.config import FsNode, Settings
from dialer.desk.wiring import desk_bus
from dialer.esl.ports import EslClientKind, EslConnection, ManagedEslConnection
from dialer.esl.wiring import build_esl_client
from dialer.listener.adapters import RedisLiveState, SqlAttemptSink, SqlSafetyStore
from dialer.listener.ports import (
    ApiCallSink,
    AttemptSink,
    DeskPublisher,
    LiveState,
    TrunkHealthFeed,
    TrunkRelease,
)
from dialer.listener.safety import AbandonSafety, PauseNotice
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from dialer.liveness.ports import HeartbeatStore
from dialer.liveness.service import LoopBeat
from dialer.routing.wiring import DEFAULT_NAMESPACE, TrunkState, redis_trunk_state

__all__ = ["RunningListener", "live_state", "node_listeners", "start_listener"]

_STOP_WAIT_S = 10.0
# The worker loop beats at least every 5 s, also while it waits for a backend.
LISTENER_STALE_AFTER_S = 30.0
log = logging.getLogger(__name__)

SwitchSetup = Callable[[EslConnection], None]
"""What a node is made to hold after each (re)connect (it may send commands and wait)."""


@dataclass
class RunningListener:
    """One node's listener with its connection and its worker thread."""

    listener: NodeListener
    client: ManagedEslConnection
    worker: threading.Thread

    def stop(self) -> None:
        self.client.close()
        self.listener.stop()
        self.worker.join(timeout=_STOP_WAIT_S)

    def broken(self) -> str | None:
        """Why this node's listener cannot go on (its worker thread ended, or its client
        gave up connecting), None while it runs: the process should then exit non-zero."""
        if not self.worker.is_alive():
            return f"listener {self.client.node}: worker thread ended"
        failure = self.client.failure
        if failure is not None:
            return f"listener {self.client.node}: Event Socket client failed: {failure}"
        return None


def live_state(client: redis.Redis[Any], namespace: str = DEFAULT_NAMESPACE) -> RedisLiveState:
    """The live state of the nodes in Redis, under ``<namespace>:live``."""
    return RedisLiveState(client, prefix=f"{namespace}:live")


def start_listener(
    node: FsNode,
    live: LiveState,
    attempts: AttemptSink,
    trunks: TrunkRelease,
    *,
    clock: Clock = SYSTEM_CLOCK,
    health: TrunkHealthFeed | None = None,
    safety: AbandonSafety | None = None,
    api_calls: ApiCallSink | None = None,
    reconcile_every_s: float = 60.0,
    client_kind: EslClientKind = "own",
    setup: SwitchSetup | None = None,
    cdrs: CdrLookup | None = None,
    cdr_wait_s: float = 120.0,
    heartbeats: HeartbeatStore | None = None,
    desk: DeskPublisher | None = None,
) -> RunningListener:
    """Start the listener of one node: its worker thread and its persistent connection;
    ``setup`` runs after each (re)connect, before the listener's reconcile (which then reads
    what it set up); a failing setup is logged and the listener goes on. Calls it lost are
    settled from ``cdrs`` or, after ``cdr_wait_s``, without a CDR. The worker loop beats
    ``heartbeats`` (loop ``node-<name>`` of process ``listener``) if given."""
    beat = None
    if heartbeats is not None:
        beat = LoopBeat(heartbeats, "listener", f"node-{node.name}", LISTENER_STALE_AFTER_S)
    listener = NodeListener(
        node.name, live, attempts, trunks,
        reconcile_every_s=reconcile_every_s, clock=clock, health=health, safety=safety,
        api_calls=api_calls, cdrs=cdrs, cdr_wait_s=cdr_wait_s, heartbeat=beat, desk=desk,
    )  # fmt: skip

    def connected() -> None:
        if setup is not None:
            try:
                setup(client)
            except Exception:
                log.exception("listener %s: setting up the switch failed", node.name)
        listener.on_connect()

    client = build_esl_client(
        client_kind, node, LISTENER_SUBSCRIPTION, listener.on_event, connected
    )
    listener.attach(client)
    worker = threading.Thread(target=listener.run, name=f"listener-{node.name}", daemon=True)
    worker.start()
    client.start()
    return RunningListener(listener, client, worker)


def node_listeners(
    settings: Settings,
    client: redis.Redis[Any],
    sessions: sessionmaker[Session],
    clock: Clock,
    notify: Callable[[int], None] | None = None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    trunks: TrunkState | None = None,
    reconcile_every_s: float = 60.0,
    notify_paused: Callable[[PauseNotice], None] | None = None,
    heartbeats: HeartbeatStore | None = None,
    notify_api_call: Callable[[str], None] | None = None,
) -> list[RunningListener]:
    """One running listener per node of ``settings``, sharing the Redis state under
    ``namespace`` (``trunks``: that namespace's trunk state, health kept, unless given) and
    the database (the CDRs the API stored there settle the calls a listener lost);
    ``notify(attempt_id)`` hands each recorded attempt to the post-call work,
    ``notify_paused`` each campaign the abandon safety stop paused, ``notify_api_call(uuid)``
    each API call whose end was recorded (its webhook); each agent's events go to its
    desk (`dialer.desk`, Redis pub/sub); each node gets the
    database's agents after every (re)connect."""
    live = live_state(client, namespace)
    cdrs = SqlCdrStore(sessions)
    shared = trunks if trunks is not None else redis_trunk_state(client, namespace)
    attempts = SqlAttemptSink(sessions, clock, notify)
    safety = AbandonSafety(SqlSafetyStore(sessions), clock, notify_paused)
    # imported here: the API calls' wiring builds on the pacer's, which builds on this one
    from dialer.apicalls.wiring import api_call_sink

    api_calls = api_call_sink(sessions, shared.reservations, notify_api_call)
    desk = desk_bus(client, namespace)
    return [
        start_listener(
            node,
            live,
            attempts,
            shared.reservations,
            clock=clock,
            health=shared.health,
            safety=safety,
            api_calls=api_calls,
            reconcile_every_s=reconcile_every_s,
            client_kind=settings.esl_client,
            setup=agent_sync(sessions),
            cdrs=cdrs,
            cdr_wait_s=settings.cdr_wait_s,
            heartbeats=heartbeats,
            desk=desk,
        )
        for node in settings.freeswitch_nodes
    ]
