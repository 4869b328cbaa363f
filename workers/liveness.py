"""Heartbeats of the Celery processes (`dialer.liveness`), read by ``dialer health``.

Beat: `HeartbeatScheduler` (the app's ``beat_scheduler``) beats loop ``scheduler`` of process
``beat`` on every turn of beat's loop. A worker: once ready, a thread beats loop
``process-<node name>`` of process ``worker`` every `PROCESS_BEAT_EVERY_S`, and its pacing
slices beat their own loops (`workers.tasks`). Each process first forgets the heartbeats that
dead processes of its kind left on this machine, and removes its own when it stops cleanly.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from celery.beat import PersistentScheduler
from celery.signals import worker_ready, worker_shutdown

from dialer.liveness.service import LoopBeat, forget_dead, pid_alive
from dialer.liveness.wiring import heartbeat_store
from workers.context import app_context

log = logging.getLogger(__name__)

PROCESS_BEAT_EVERY_S = 5.0
STALE_AFTER_S = 30.0
_process_beat: dict[str, tuple[LoopBeat, threading.Event]] = {}


def _beat(kind: str, loop: str) -> LoopBeat:
    store = heartbeat_store(app_context().settings.health_dir)
    forgotten = forget_dead(store, kind, socket.gethostname(), pid_alive)
    if forgotten:
        log.info("%s: heartbeats of dead processes forgotten: %s", kind, ", ".join(forgotten))
    return LoopBeat(store, kind, loop, STALE_AFTER_S)


class HeartbeatScheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery beat's persistent scheduler that beats on every tick of beat's loop."""

    _heartbeat: LoopBeat | None = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        wait_s: float = super().tick(*args, **kwargs)
        if self._heartbeat is None:
            self._heartbeat = _beat("beat", "scheduler")
        self._heartbeat.beat()
        return wait_s

    def close(self) -> None:
        super().close()
        if self._heartbeat is not None:
            self._heartbeat.stopped()


def _beat_while_running(heartbeat: LoopBeat, stop: threading.Event) -> None:
    while True:
        heartbeat.beat()
        if stop.wait(PROCESS_BEAT_EVERY_S):
            return


def _start_process_beat(sender: Any = None, **_: Any) -> None:
    name = str(getattr(sender, "hostname", "") or "worker")
    heartbeat = _beat("worker", f"process-{name}")
    stop = threading.Event()
    _process_beat[name] = (heartbeat, stop)
    threading.Thread(
        target=_beat_while_running, args=(heartbeat, stop), name="heartbeat", daemon=True
    ).start()


def _stop_process_beat(**_: Any) -> None:
    for heartbeat, stop in _process_beat.values():
        stop.set()
        heartbeat.stopped()
    _process_beat.clear()


worker_ready.connect(_start_process_beat, weak=False)
worker_shutdown.connect(_stop_process_beat, weak=False)
