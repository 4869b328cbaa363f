"""Judging heartbeats (pure) and beating them (`LoopBeat`, one per loop)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.liveness.ports import Heartbeat, HeartbeatStore

log = logging.getLogger(__name__)


def failed_loops(
    beats: list[Heartbeat], now_s: float, host: str, pid_alive: Callable[[int], bool]
) -> list[str]:
    """One line per loop that stopped: its heartbeat is older than its ``stale_after_s``, it
    says it failed, or its process (on ``host``, the checking machine) is gone. Empty: every
    loop is alive."""
    lines = []
    for beat in beats:
        name = f"{beat.process} {beat.loop} (pid {beat.pid})"
        age_s = now_s - beat.beat_s
        if beat.status.startswith("failed"):
            lines.append(f"{name}: {beat.status}")
        elif beat.host == host and not pid_alive(beat.pid):
            lines.append(f"{name}: process is gone (last beat {age_s:.0f} s ago)")
        elif age_s > beat.stale_after_s:
            lines.append(
                f"{name}: no progress for {age_s:.0f} s (limit {beat.stale_after_s:.0f} s);"
                f" last status: {beat.status}"
            )
    return lines


def health_report(
    store: HeartbeatStore,
    kinds: tuple[str, ...],
    now_s: float,
    host: str,
    pid_alive: Callable[[int], bool],
) -> list[str]:
    """One line per loop of the process ``kinds`` that stopped, and one per kind with no
    heartbeat at all (not running here); empty: healthy."""
    lines = []
    for kind in kinds:
        beats = store.of(kind)
        if not beats:
            lines.append(f"{kind}: no heartbeat (not running on this machine?)")
        lines.extend(failed_loops(beats, now_s, host, pid_alive))
    return lines


def forget_dead(
    store: HeartbeatStore, kind: str, host: str, pid_alive: Callable[[int], bool]
) -> list[str]:
    """Remove the heartbeats that processes of ``kind`` on ``host`` left when they died (a
    restarted process starts clean); the loops forgotten."""
    gone = [b for b in store.of(kind) if b.host == host and not pid_alive(b.pid)]
    for beat in gone:
        store.remove(beat.process, beat.loop)
    return [beat.loop for beat in gone]


class LoopBeat:
    """The heartbeat of one loop of this process. Writing it never raises: a heartbeat that
    cannot be written shows up as a stale one, which is the point."""

    def __init__(
        self,
        store: HeartbeatStore,
        process: str,
        loop: str,
        stale_after_s: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self.process = process
        self.loop = loop
        self.stale_after_s = stale_after_s
        self._clock = clock

    def beat(self, status: str = "ok") -> None:
        self._put(status)

    def failed(self, reason: str) -> None:
        self._put(f"failed: {reason}")

    def stopped(self) -> None:
        try:
            self._store.remove(self.process, self.loop)
        except Exception:
            log.exception("heartbeat of %s %s not removed", self.process, self.loop)

    def _put(self, status: str) -> None:
        beat = Heartbeat(
            self.process,
            self.loop,
            socket.gethostname(),
            os.getpid(),
            self._clock.now().timestamp(),
            self.stale_after_s,
            status,
        )
        try:
            self._store.put(beat)
        except Exception:
            log.exception("heartbeat of %s %s not written", self.process, self.loop)


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` of this machine exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
