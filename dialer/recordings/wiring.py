"""Wiring of the recordings context: a local directory, the settings' secret and limits."""

from __future__ import annotations

from pathlib import Path

from dialer.clock import Clock
from dialer.config import Settings
from dialer.recordings.adapters import LocalRecordingStorage
from dialer.recordings.service import RecordingDeps

__all__ = ["recording_deps"]


def recording_deps(settings: Settings, clock: Clock) -> RecordingDeps:
    return RecordingDeps(
        LocalRecordingStorage(Path(settings.recordings_dir)),
        clock,
        settings.recordings_secret,
        settings.recordings_url_ttl_s,
        settings.recordings_retention_days,
        settings.recording_max_bytes,
    )
