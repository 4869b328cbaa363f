"""Wiring of the recordings context: a local directory, the settings' secret and limits, and
what the originate of a recorded call asks of the switch."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from dialer.clock import Clock
from dialer.config import Settings
from dialer.esl.originate import Recording
from dialer.recordings.adapters import LocalRecordingStorage
from dialer.recordings.service import UPLOAD_PATH, RecordingDeps

__all__ = ["public_url", "recording_deps", "switch_recording", "upload_url"]


def recording_deps(settings: Settings, clock: Clock) -> RecordingDeps:
    return RecordingDeps(
        LocalRecordingStorage(Path(settings.recordings_dir)),
        clock,
        settings.recordings_secret,
        settings.recordings_url_ttl_s,
        settings.recordings_retention_days,
        settings.recording_max_bytes,
    )


def upload_url(settings: Settings) -> str:
    """Where the switch uploads a recording: ``DIALER_RECORDING_UPLOAD_URL``, else this API's
    ``/fsapi/upload_audio`` with the switch's credentials as the URL's user and password
    (percent-encoded: curl decodes them, and the shell the hook runs in sees none of them)."""
    if settings.recording_upload_url:
        return settings.recording_upload_url
    auth = ""
    if settings.fsapi_credentials:
        user, _, password = settings.fsapi_credentials.partition(":")
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    return f"http://{auth}{settings.api_host}:{settings.api_port}{UPLOAD_PATH}"


def public_url(settings: Settings) -> str:
    """The API's base URL as outsiders reach it (``DIALER_PUBLIC_URL``, else api_host:port)."""
    return settings.public_url or f"http://{settings.api_host}:{settings.api_port}"


def switch_recording(settings: Settings) -> Recording:
    """What the originate of a call of a recording campaign sets (seed 001's template)."""
    return Recording(
        directory=settings.recordings_switch_dir,
        file_format=settings.recording_format,
        upload_url=upload_url(settings),
    )
