"""Composition root of the event listener process: one connection and one worker per node.

``python -m workers.listener`` runs until SIGINT/SIGTERM, or exits 1 as soon as a node's
listener cannot go on (its worker thread ended, its Event Socket client gave up), so that its
supervisor restarts it. Its loops beat the heartbeat files that ``dialer health listener``
reads. Wiring only: `start_listeners` runs the
listeners of a context's nodes (`dialer.listener.wiring.node_listeners`); the logic is
`dialer.listener.service.NodeListener`.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable

from dialer.listener.safety import PauseNotice
from dialer.listener.wiring import RunningListener, node_listeners
from dialer.liveness.ports import HeartbeatStore
from dialer.liveness.service import forget_dead, pid_alive
from dialer.liveness.wiring import heartbeat_store
from dialer.metrics import serve_metrics
from workers.context import AppContext, app_context
from workers.tasks_api_calls import enqueue_api_call_ended
from workers.tasks_post_call import enqueue_campaign_paused, enqueue_post_call

log = logging.getLogger(__name__)
WATCH_EVERY_S = 1.0


def start_listeners(
    context: AppContext,
    notify: Callable[[int], None] | None = enqueue_post_call,
    reconcile_every_s: float = 60.0,
    notify_paused: Callable[[PauseNotice], None] | None = enqueue_campaign_paused,
    heartbeats: HeartbeatStore | None = None,
    notify_api_call: Callable[[str], None] | None = enqueue_api_call_ended,
) -> list[RunningListener]:
    """The running listeners of ``context``'s nodes; ``notify(attempt_id)`` hands each
    recorded attempt on, ``notify_paused`` each campaign the abandon safety stop paused (the
    deployment's post-call queue unless given; None: nowhere)."""
    return node_listeners(
        context.settings, context.redis, context.sessions, context.clock, notify,
        namespace=context.namespace, reconcile_every_s=reconcile_every_s,
        notify_paused=notify_paused, heartbeats=heartbeats,
        notify_api_call=notify_api_call,
    )  # fmt: skip


def watch(running: list[RunningListener], done: threading.Event, check_every_s: float) -> int:
    """Wait until ``done`` (0) or until a node's listener cannot go on (1, logged)."""
    while not done.wait(check_every_s):
        broken = [reason for r in running if (reason := r.broken()) is not None]
        if broken:
            for reason in broken:
                log.critical("%s; exiting so that the supervisor restarts the listener", reason)
            return 1
    return 0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    context = app_context()
    heartbeats = heartbeat_store(context.settings.health_dir)
    forget_dead(heartbeats, "listener", socket.gethostname(), pid_alive)
    settings = context.settings
    serve_metrics(settings.listener_metrics_port, settings.metrics_host, "listener")
    running = start_listeners(context, heartbeats=heartbeats)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    log.info("listening to %s", ", ".join(r.client.node for r in running))
    code = watch(running, done, WATCH_EVERY_S)
    for node in running:
        node.stop()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
