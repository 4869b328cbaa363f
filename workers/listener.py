"""Composition root of the event listener process: one connection and one worker per node.

``python -m workers.listener`` runs until SIGINT/SIGTERM. Wiring only: `start_listeners` runs the
listeners of a context's nodes (`dialer.listener.wiring.node_listeners`); the logic is
`dialer.listener.service.NodeListener`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from dialer.listener.safety import PauseNotice
from dialer.listener.wiring import RunningListener, node_listeners
from workers.context import AppContext, app_context
from workers.tasks_post_call import enqueue_campaign_paused, enqueue_post_call

log = logging.getLogger(__name__)


def start_listeners(
    context: AppContext,
    notify: Callable[[int], None] | None = enqueue_post_call,
    reconcile_every_s: float = 60.0,
    notify_paused: Callable[[PauseNotice], None] | None = enqueue_campaign_paused,
) -> list[RunningListener]:
    """The running listeners of ``context``'s nodes; ``notify(attempt_id)`` hands each
    recorded attempt on, ``notify_paused`` each campaign the abandon safety stop paused (the
    deployment's post-call queue unless given; None: nowhere)."""
    return node_listeners(
        context.settings, context.redis, context.sessions, context.clock, notify,
        namespace=context.namespace, reconcile_every_s=reconcile_every_s,
        notify_paused=notify_paused,
    )  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    running = start_listeners(app_context())
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    log.info("listening to %s", ", ".join(r.client.node for r in running))
    done.wait()
    for node in running:
        node.stop()


if __name__ == "__main__":
    main()
