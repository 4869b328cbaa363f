"""The simulator's recording upload: what seed 001's ``api_hangup_hook`` makes FreeSWITCH do.

A leg whose ``execute_on_answer`` ran ``record_session <file>`` has a recording; when it hangs
up, ``api_hangup_hook=system curl -XPOST -F "files=@<file>" <url>?uuid=<uuid> &`` runs curl
in the background. The simulator does not run a shell: it reads that one command form
(`parse_upload_hook`) and POSTs as curl did in capture y (``http/y_upload_recording``): one
multipart part ``files`` named after the file, ``Content-Type: application/octet-stream``,
``User-Agent: curl/7.88.1``, the URL's ``user:pass@`` as HTTP basic auth (curl's reading).
The file is a short WAV of silence (`small_wav`: 8000 Hz, mono, 16 bit, as capture y's),
not the call's audio. A leg that never answered recorded nothing: curl finds no file and
nothing is posted. `UploadHooks` posts from a thread of its own, so the switch's loop never
waits for the receiver.
"""

from __future__ import annotations

import io
import logging
import re
import wave
from dataclasses import dataclass
from pathlib import PurePosixPath

import httpx

from dialer.sim.posting import PostingThread

__all__ = ["UploadHook", "UploadHooks", "parse_upload_hook", "small_wav"]

log = logging.getLogger(__name__)

_HOOK_RE = re.compile(
    r'system curl -XPOST -F "files=@(?P<path>[^"\s]+)" (?P<url>\S+)\?uuid=(?P<uuid>[0-9a-f-]+) &'
)
SAMPLE_RATE_HZ = 8000
WAV_SECONDS = 0.1
CURL_USER_AGENT = "curl/7.88.1"


@dataclass(frozen=True, slots=True)
class UploadHook:
    """One upload: the recorded ``path`` on the switch, the ``url`` and the ``uuid`` sent."""

    path: str
    url: str
    uuid: str


def parse_upload_hook(value: str) -> UploadHook | None:
    """The upload seed 001's hook (variables expanded) asks for; None for any other hook."""
    found = _HOOK_RE.fullmatch(value.strip())
    if found is None:
        return None
    return UploadHook(found["path"], found["url"], found["uuid"])


def small_wav(seconds: float = WAV_SECONDS) -> bytes:
    """A WAV of ``seconds`` of silence, 8000 Hz mono 16 bit (capture y's format)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE_HZ)
        wav.writeframes(b"\x00\x00" * int(SAMPLE_RATE_HZ * seconds))
    return out.getvalue()


class UploadHooks:
    """Runs queued uploads in order from its own thread; ``uploaded`` and ``failed`` count
    them (``uploaded`` the uuids whose upload was answered 2xx)."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self.uploaded: list[str] = []
        self.failed = 0
        client = httpx.Client(timeout=timeout_s, headers={"User-Agent": CURL_USER_AGENT})
        self._posting = PostingThread(client, self._upload, "sim-upload-hook")

    def run(self, hook: UploadHook) -> None:
        """Queue one upload (never blocks)."""
        self._posting.put(hook)

    def pending(self) -> int:
        return self._posting.pending()

    def close(self, wait_s: float = 10.0) -> None:
        """Make the queued uploads (within ``wait_s``), then stop."""
        self._posting.close(wait_s)

    def _upload(self, hook: UploadHook) -> None:
        name = PurePosixPath(hook.path).name
        files = {"files": (name, small_wav(), "application/octet-stream")}
        try:
            reply = self._posting.client.post(hook.url, params={"uuid": hook.uuid}, files=files)
        except httpx.HTTPError as exc:
            self.failed += 1
            log.error("recording upload of %s to %s failed: %s", hook.uuid, hook.url, exc)
            return
        if reply.is_success:
            self.uploaded.append(hook.uuid)
        else:
            self.failed += 1
            log.error("recording upload of %s: HTTP %s", hook.uuid, reply.status_code)
