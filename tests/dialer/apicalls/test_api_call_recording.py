"""``GET /v1/calls/{uuid}`` gives the call's recording as a URL that expires, once the switch
uploaded one, and null before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apicalls.adapters import SqlApiCallStore
from dialer.apicalls.ports import CallKind, CallStatus, NewApiCall
from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from dialer.recordings.adapters import LocalRecordingStorage
from tests.support.api import bearer, issue_test_keys
from workers.api import create_app
from workers.context import AppContext

UUID = "6f1c2a4e-0b7d-4c55-9b1e-2d5f8f0c9a11"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_calls_recording_is_a_url_on_the_call(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = load_settings(
        recordings_dir=str(tmp_path / "rec"), recordings_secret="s3cret",
        public_url="https://dialer.example",
    )  # fmt: skip
    SqlApiCallStore(sessions).insert(
        NewApiCall(UUID, CallKind.CLICK_TO_CALL, "k", "+8613800138000", CallStatus.DIALING, NOW)
    )
    app = create_app(AppContext(settings, sessions=sessions), notify=None, trunks=MemoryTrunks())
    with TestClient(app) as client:
        client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        before = client.get(f"/v1/calls/{UUID}")
        assert before.status_code == 200 and before.json()["recording"] is None, before.text
        LocalRecordingStorage(tmp_path / "rec").put(UUID, "wav", b"RIFF....WAVE", NOW)
        url = client.get(f"/v1/calls/{UUID}").json()["recording"]
        assert url.startswith(f"https://dialer.example/files/recordings/{UUID}?expires=")
        served = client.get(url.removeprefix("https://dialer.example"))
        assert served.status_code == 200 and served.content == b"RIFF....WAVE"
