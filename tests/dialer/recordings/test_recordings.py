"""A recording uploaded as the switch uploads it (capture y: ``curl -F files=@<uuid>.wav
url?uuid=<uuid>``) is kept, listed for managers with a URL that expires, downloadable through
that URL until then, and purged after its retention."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from dialer.recordings.fakes import MemoryRecordingStorage
from dialer.recordings.service import (
    RecordingDeps,
    RecordingError,
    download_url,
    purge_expired,
    receive_upload,
    signature_ok,
)
from tests.support.api import bearer, issue_test_keys
from tests.support.clock import FakeClock
from tests.support.transcripts import http_request
from workers.api import create_app
from workers.context import AppContext

CREDENTIALS = "fs1:s3cret"
AUTH = {"Authorization": "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()}
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
UUID = "5df43cdc-5db9-4117-a6a3-2d7a29dcd516"  # the capture's


def _capture() -> tuple[str, dict[str, str], bytes]:
    line, headers, body = http_request("y_upload_recording")
    return line.split()[1], headers, body


def test_urls_are_signed_and_expire() -> None:
    clock = FakeClock(T0)
    deps = RecordingDeps(MemoryRecordingStorage(), clock, "k3y", url_ttl_s=60)
    url, expires = download_url(deps, UUID)
    assert expires == T0 + timedelta(seconds=60)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    expires_s = int(query["expires"])
    assert signature_ok(deps, UUID, expires_s, query["sig"])
    assert not signature_ok(deps, UUID, expires_s + 1, query["sig"])  # a changed expiry
    assert not signature_ok(deps, "00000000-0000-4000-8000-000000000001", expires_s, query["sig"])
    clock.advance(61)
    assert not signature_ok(deps, UUID, expires_s, query["sig"])
    with pytest.raises(RecordingError):
        download_url(RecordingDeps(MemoryRecordingStorage(), clock), UUID)


@pytest.mark.parametrize(
    ("call_uuid", "filename", "data"),
    [("../etc/passwd", "x.wav", b"x"), (UUID, "x.exe", b"x"), (UUID, "x.wav", b""),
     (UUID, "x.wav", b"x" * 11)],
)  # fmt: skip
def test_what_is_not_a_recording_is_refused(call_uuid: str, filename: str, data: bytes) -> None:
    deps = RecordingDeps(MemoryRecordingStorage(), FakeClock(T0), max_bytes=10)
    with pytest.raises(RecordingError):
        receive_upload(deps, call_uuid, filename, data)


def test_purge_keeps_the_retention() -> None:
    clock = FakeClock(T0)
    storage = MemoryRecordingStorage()
    deps = RecordingDeps(storage, clock, retention_days=90)
    receive_upload(deps, UUID, "a.wav", b"RIFF")
    clock.advance(89 * 86400)
    assert purge_expired(deps) == 0
    clock.advance(2 * 86400)
    assert purge_expired(deps) == 1 and storage.get(UUID) is None


@pytest.fixture
def client(
    sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[tuple[TestClient, FakeClock]]:
    settings = load_settings(fsapi_credentials=CREDENTIALS, recordings_dir=str(tmp_path / "rec"),
                             recordings_secret="k3y", recordings_url_ttl_s=600)  # fmt: skip
    clock = FakeClock(T0)
    context = AppContext(settings, clock=clock, sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as test_client:
        yield test_client, clock


def test_the_captured_upload_is_kept_listed_and_downloadable(
    client: tuple[TestClient, FakeClock], sessions: sessionmaker[Session]
) -> None:
    http, clock = client
    target, headers, body = _capture()
    assert target == f"/upload?uuid={UUID}"
    post = {"Content-Type": headers["content-type"], **AUTH}
    assert http.post(f"/fsapi/upload_audio?uuid={UUID}", content=body, headers=post).text == "OK\n"
    manager = bearer(issue_test_keys(sessions)[Role.MANAGER])
    listed = http.get(f"/v1/recordings/{UUID}", headers=manager)
    assert listed.status_code == 200, listed.text
    meta = listed.json()
    assert (meta["format"], meta["size"]) == ("wav", 320364)  # the WAV of capture y
    audio = http.get(meta["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) == 320364
    clock.advance(601)
    assert http.get(meta["url"]).status_code == 403
    assert http.get(f"/v1/recordings/{UUID}").status_code == 401
    missing = http.get("/v1/recordings/00000000-0000-4000-8000-000000000009", headers=manager)
    assert missing.status_code == 404


def test_uploads_are_authenticated_and_checked(client: tuple[TestClient, FakeClock]) -> None:
    http, _ = client
    _, headers, body = _capture()
    plain = {"Content-Type": headers["content-type"]}
    assert (
        http.post(f"/fsapi/upload_audio?uuid={UUID}", content=body, headers=plain).status_code
        == 401
    )
    bad = http.post("/fsapi/upload_audio?uuid=nope", content=body,
                    headers={**plain, **AUTH})  # fmt: skip
    assert bad.status_code == 400 and "uuid" in bad.text
    empty = http.post(f"/fsapi/upload_audio?uuid={UUID}", data={"x": "1"}, headers=AUTH)
    assert empty.status_code == 400


def test_the_upload_url_is_this_apis_with_the_switchs_credentials_or_the_setting() -> None:
    from dialer.config import SettingsError, load_settings
    from dialer.esl.originate import UPLOAD_URL_RE
    from dialer.recordings.wiring import switch_recording, upload_url

    derived = load_settings(fsapi_credentials="fs1:p&ss w;rd", api_host="10.0.0.2", api_port=8081)
    assert upload_url(derived) == "http://fs1:p%26ss%20w%3Brd@10.0.0.2:8081/fsapi/upload_audio"
    assert UPLOAD_URL_RE.fullmatch(upload_url(derived))
    given = load_settings(recording_upload_url="https://u:p@api.example/fsapi/upload_audio")
    assert switch_recording(given).upload_url == "https://u:p@api.example/fsapi/upload_audio"
    with pytest.raises(SettingsError, match="DIALER_RECORDING_UPLOAD_URL"):
        load_settings(recording_upload_url="http://api.example/x;reboot")
