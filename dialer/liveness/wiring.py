"""The heartbeat store of a deployment: files under ``Settings.health_dir``."""

from __future__ import annotations

from pathlib import Path

from dialer.liveness.adapters import FileHeartbeats


def heartbeat_store(health_dir: str) -> FileHeartbeats:
    return FileHeartbeats(Path(health_dir))
