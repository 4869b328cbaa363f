"""The simulator reads seed 001's upload hook as the originate writes it, and nothing else."""

from __future__ import annotations

import io
import wave

from dialer.esl.originate import upload_hook_vars
from dialer.sim.recording_upload import UploadHook, parse_upload_hook, small_wav

UUID = "5df43cdc-5db9-4117-a6a3-2d7a29dcd516"


def test_the_hook_the_originate_writes_is_read_back() -> None:
    path = f"/var/lib/freeswitch/recordings/2026-12-03/{UUID}.wav"
    url = "http://fs1:s3cret@127.0.0.1:8080/fsapi/upload_audio"
    hook = upload_hook_vars(url, path, UUID)["api_hangup_hook"]
    assert parse_upload_hook(hook) == UploadHook(path, url, UUID)


def test_other_hooks_are_not_uploads() -> None:
    for other in ("", "system rm -rf /tmp/x &", "lua hangup.lua", f"system curl {UUID}"):
        assert parse_upload_hook(other) is None


def test_the_file_is_a_short_wav_as_capture_ys() -> None:
    with wave.open(io.BytesIO(small_wav())) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
        assert 0 < wav.getnframes() / wav.getframerate() <= 1
