"""Heartbeats as small JSON files, one per loop: ``<dir>/<process>/<loop>.json``.

Files, not Redis, so that a loop's liveness is still known while Redis or the database is
down (the very time it matters). Each write replaces the file atomically (write, rename).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path

from dialer.liveness.ports import Heartbeat

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


def _file_name(loop: str) -> str:
    return _UNSAFE.sub("_", loop) + ".json"


class FileHeartbeats:
    """`dialer.liveness.ports.HeartbeatStore` under directory ``root`` (created on write)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def put(self, beat: Heartbeat) -> None:
        folder = self._root / _UNSAFE.sub("_", beat.process)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _file_name(beat.loop)
        scratch = folder / f".{target.name}.{os.getpid()}.tmp"
        scratch.write_text(json.dumps(asdict(beat)), encoding="utf-8")
        os.replace(scratch, target)

    def remove(self, process: str, loop: str) -> None:
        (self._root / _UNSAFE.sub("_", process) / _file_name(loop)).unlink(missing_ok=True)

    def of(self, process: str) -> list[Heartbeat]:
        folder = self._root / _UNSAFE.sub("_", process)
        beats = []
        for path in sorted(folder.glob("*.json")):
            try:
                beats.append(Heartbeat(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue  # removed or replaced while listed; an unreadable one is no beat
        return sorted(beats, key=lambda b: b.loop)
