"""Use cases of the recordings context: take a recording the switch uploads, hand out a URL
that expires, purge what is past its retention.

The switch uploads a call's recording after hangup (seed 001's ``api_hangup_hook``:
``curl -XPOST -F "files=@<file>" <url>?uuid=<uuid>``, capture y: one multipart part named
``files`` whose filename is ``<uuid>.wav``). A download URL is
``/files/recordings/<uuid>?expires=<epoch s>&sig=<hex>``: ``sig`` is HMAC-SHA256 of
``<uuid>:<expires>`` with ``DIALER_RECORDINGS_SECRET``, so it is checked without any state
and stops working at ``expires``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from dialer.clock import Clock
from dialer.recordings.ports import RecordingStorage, StoredRecording

__all__ = [
    "DOWNLOAD_PREFIX",
    "UPLOAD_PATH",
    "RecordingDeps",
    "RecordingError",
    "download_url",
    "purge_expired",
    "receive_upload",
    "recording_link",
    "signature_ok",
]

DOWNLOAD_PREFIX = "/files/recordings"
UPLOAD_PATH = "/fsapi/upload_audio"
"""Where the switch uploads (`dialer.recordings.http.upload_router`)."""
FORMATS = frozenset({"wav", "mp3"})
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RecordingError(ValueError):
    """An upload that is not a call recording; the message says why."""


@dataclass(frozen=True)
class RecordingDeps:
    storage: RecordingStorage
    clock: Clock
    secret: str = ""
    url_ttl_s: int = 3600
    retention_days: int = 90
    max_bytes: int = 200 << 20


def check_uuid(call_uuid: str) -> str:
    if not _UUID_RE.fullmatch(call_uuid):
        raise RecordingError(f"not a call uuid: {call_uuid[:40]!r}")
    return call_uuid


def receive_upload(
    deps: RecordingDeps, call_uuid: str, filename: str, data: bytes
) -> StoredRecording:
    """Keep the uploaded file as ``call_uuid``'s recording; its format is the filename's
    extension (``wav`` or ``mp3``)."""
    check_uuid(call_uuid)
    file_format = filename.rpartition(".")[2].lower() if "." in filename else ""
    if file_format not in FORMATS:
        raise RecordingError(f"a recording is .wav or .mp3, not {filename[:60]!r}")
    if not data:
        raise RecordingError("the recording is empty")
    if len(data) > deps.max_bytes:
        raise RecordingError(f"the recording is over {deps.max_bytes} bytes")
    return deps.storage.put(call_uuid, file_format, data, deps.clock.now())


def _sign(secret: str, call_uuid: str, expires_s: int) -> str:
    message = f"{call_uuid}:{expires_s}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def download_url(deps: RecordingDeps, call_uuid: str) -> tuple[str, datetime]:
    """The path of a URL that serves the recording until the returned time."""
    if not deps.secret:
        raise RecordingError("no DIALER_RECORDINGS_SECRET: recording URLs are not handed out")
    expires = deps.clock.now() + timedelta(seconds=deps.url_ttl_s)
    expires_s = int(expires.timestamp())
    query = urlencode({"expires": expires_s, "sig": _sign(deps.secret, call_uuid, expires_s)})
    return f"{DOWNLOAD_PREFIX}/{call_uuid}?{query}", expires


def recording_link(deps: RecordingDeps, call_uuid: str, public_url: str) -> str | None:
    """The call's recording as a whole URL that expires (``public_url`` + `download_url`);
    None when it has no recording or no URL can be signed (no secret)."""
    if deps.storage.get(call_uuid) is None:
        return None
    try:
        path, _ = download_url(deps, call_uuid)
    except RecordingError:
        return None
    return public_url.rstrip("/") + path


def signature_ok(deps: RecordingDeps, call_uuid: str, expires_s: int, sig: str) -> bool:
    """The URL was signed with the secret and has not expired."""
    if not deps.secret or expires_s < deps.clock.now().timestamp():
        return False
    return hmac.compare_digest(_sign(deps.secret, call_uuid, expires_s), sig)


def purge_expired(deps: RecordingDeps) -> int:
    """Delete the recordings older than the retention; how many were."""
    return deps.storage.purge(deps.clock.now() - timedelta(days=deps.retention_days))
