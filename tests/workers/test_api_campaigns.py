"""``/v1/campaigns`` through the real app on PostgreSQL and SQLite, its start checked against
the switch simulator over TCP: create, read, list, update (what the start checked cannot
change while the campaign runs), start (refused with the failed checks, unless forced),
pause, stop, and the live figures of ``dialer campaigns show``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Lead
from dialer.apikeys.ports import Role
from dialer.config import FsNode, load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from dialer.sim.simulator import SimulatorServer
from tests.conftest import SeedCampaign
from tests.support.api import bearer, issue_test_keys
from workers.api import create_app
from workers.context import AppContext

pytestmark = pytest.mark.integration

# has queue campaign@default, extension cc_campaign and gateways cheap_cn, premium_cn
E2E = Path(__file__).resolve().parents[2] / "scenarios" / "sim" / "e2e.yaml"


@pytest.fixture
def api(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """The app over the test's database with the simulator as its one node; a manager key."""
    with SimulatorServer(E2E) as server:
        node = FsNode(name="fs1", host=server.sim.host, port=server.sim.port_number)
        settings = load_settings(freeswitch_nodes=[node], upload_dir=str(tmp_path / "up"))
        app = create_app(
            AppContext(settings, sessions=sessions), notify=None, trunks=MemoryTrunks()
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
            yield client, settings.timezone


def _fields(problem: Any) -> list[str]:
    return [e["field"] for e in problem.get("errors", [])]


def test_a_campaign_is_created_read_listed_and_bad_settings_are_refused_naming_the_field(
    api: tuple[TestClient, str],
) -> None:
    client, _ = api
    made = client.post(
        "/v1/campaigns",
        json={"name": "spring", "queue_name": "sales@default", "max_attempts": 4,
              "calling_window": {"windows": [{"days": "mon,fri", "start": "09:00",
                                              "end": "18:00"}]}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["name"], body["status"], body["max_attempts"]) == ("spring", "draft", 4)
    assert body["calling_window"]["windows"][0]["start"] == "09:00:00"
    assert client.get("/v1/campaigns/spring").json() == body
    assert [c["name"] for c in client.get("/v1/campaigns").json()] == ["spring"]

    taken = client.post("/v1/campaigns", json={"name": "spring", "queue_name": "q"})
    assert taken.status_code == 409 and _fields(taken.json()) == ["body.name"]
    unknown = client.post("/v1/campaigns", json={"name": "a", "queue_name": "q", "colour": 1})
    assert unknown.status_code == 422 and _fields(unknown.json()) == ["body.colour"]
    wrong = client.post(
        "/v1/campaigns", json={"name": "a", "queue_name": "q", "max_attempts": "many",
                               "default_region": "XX"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert sorted(_fields(wrong.json())) == ["body.default_region", "body.max_attempts"]
    assert wrong.headers["content-type"] == "application/problem+json"
    missing = client.get("/v1/campaigns/autumn")
    assert missing.status_code == 404 and "no campaign named 'autumn'" in missing.json()["detail"]
    assert [c["name"] for c in client.get("/v1/campaigns").json()] == ["spring"]


def test_start_is_refused_listing_the_failed_checks_unless_forced_and_a_running_campaign_keeps_its_queue(  # noqa: E501
    api: tuple[TestClient, str],
) -> None:
    client, _ = api
    assert client.post("/v1/campaigns", json={"name": "spring", "queue_name": "sales@default"})
    refused = client.post("/v1/campaigns/spring/start")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert "campaign spring not started" in problem["detail"]
    failed = {e["field"]: e["detail"] for e in problem["errors"]}
    assert "queue sales@default does not exist on fs1" in failed["preflight.queue"]
    assert "extension cc_spring is not in dialplan context campaign" in failed["preflight.dialplan"]
    assert client.get("/v1/campaigns/spring").json()["status"] == "draft"

    forced = client.post("/v1/campaigns/spring/start", json={"force": True})
    assert forced.status_code == 200, forced.text
    assert forced.json()["campaign"]["status"] == "running"
    assert {"queue", "dialplan"} <= {
        f["check"] for f in forced.json()["findings"] if f["verdict"] == "fail"
    }
    locked = client.patch("/v1/campaigns/spring", json={"queue_name": "campaign@default",
                                                         "max_attempts": 5})  # fmt: skip
    assert locked.status_code == 409 and _fields(locked.json()) == ["body.queue_name"]
    assert "cannot change while it runs" in locked.json()["detail"]
    changed = client.patch("/v1/campaigns/spring", json={"retry_order": "fresh_first",
                                                          "max_attempts": 5})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (changed.json()["retry_order"], changed.json()["max_attempts"]) == ("fresh_first", 5)
    renamed = client.patch("/v1/campaigns/spring", json={"name": "summer"})
    assert renamed.status_code == 422 and _fields(renamed.json()) == ["body.name"]
    bad = client.patch("/v1/campaigns/spring", json={"abandon_target_pct": 0})
    assert bad.status_code == 422 and _fields(bad.json()) == ["body.abandon_target_pct"]
    bad_type = client.post("/v1/campaigns/spring/start", json={"force": "please"})
    assert bad_type.status_code == 422 and _fields(bad_type.json()) == ["body.force"]

    assert client.post("/v1/campaigns/spring/pause").json()["status"] == "paused"
    moved = client.patch("/v1/campaigns/spring", json={"queue_name": "campaign@default"})
    assert moved.status_code == 200 and moved.json()["queue_name"] == "campaign@default"
    assert client.post("/v1/campaigns/spring/stop").json()["status"] == "stopped"
    again = client.post("/v1/campaigns/spring/pause")
    assert again.status_code == 409 and "it is stopped" in again.json()["detail"]


def test_a_campaign_whose_checks_pass_starts_and_reports_its_live_figures(
    api: tuple[TestClient, str],
    sessions: sessionmaker[Session],
    seed_campaign: SeedCampaign,
) -> None:
    client, _ = api
    campaign_id = seed_campaign(leads=4, trunks={"cheap_cn": 10})
    assert client.post("/v1/campaigns/campaign/pause").json()["status"] == "paused"
    checks = client.get("/v1/campaigns/campaign/preflight")
    assert checks.status_code == 200
    assert not [f for f in checks.json() if f["verdict"] == "fail"], checks.json()
    started = client.post("/v1/campaigns/campaign/start")
    assert started.status_code == 200, started.text
    assert started.json()["campaign"]["status"] == "running"

    now = datetime.now(UTC)
    with transaction(sessions) as session:
        leads = session.scalars(select(Lead).order_by(Lead.id)).all()
        for i, (outcome, abandoned) in enumerate(
            (("connected", False), ("abandoned", True), ("busy", False))
        ):
            answered = now - timedelta(minutes=5) if outcome != "busy" else None
            session.add(CallAttempt(
                call_uuid=f"00000000-0000-0000-0000-00000000000{i}", lead_id=leads[i].id,
                campaign_id=campaign_id, node="fs1", dialed_number=leads[i].phone_e164,
                originated_at=now - timedelta(minutes=6), answered_at=answered,
                connected_at=answered if outcome == "connected" else None,
                ended_at=now - timedelta(minutes=3) if outcome == "connected" else None,
                outcome=outcome, abandoned=abandoned,
            ))  # fmt: skip
            leads[i].status = "done"
    figures = client.get("/v1/campaigns/campaign/report")
    assert figures.status_code == 200, figures.text
    report = figures.json()
    assert report["leads_by_status"]["pending"] == 1 and report["leads_by_status"]["done"] == 3
    assert report["calls_by_outcome"] == {"connected": 1, "abandoned": 1, "busy": 1}
    assert (report["answered"], report["abandoned"], report["connected"]) == (2, 1, 1)
    assert report["abandon_rate"] == 0.5 and report["talk_s"] == 120.0
    assert report["window_days"] == 30
    # the list carries the same figures when asked, and none otherwise
    [listed] = client.get("/v1/campaigns", params={"report": "true"}).json()
    # the same figures, read a moment later (``since`` moved with the clock)
    assert {**listed["report"], "since": None} == {**report, "since": None}
    assert listed["name"] == "campaign"
    assert client.get("/v1/campaigns").json()[0]["report"] is None


def test_recording_is_a_campaign_field_off_by_default_and_changed_by_patch(
    api: tuple[TestClient, str],
) -> None:
    client, _ = api
    made = client.post("/v1/campaigns", json={"name": "spring", "queue_name": "q"})
    assert made.status_code == 201 and made.json()["record"] is False, made.text
    on = client.patch("/v1/campaigns/spring", json={"record": True})
    assert on.status_code == 200 and on.json()["record"] is True, on.text
    assert client.get("/v1/campaigns/spring").json()["record"] is True
    recorded = client.post("/v1/campaigns", json={"name": "a", "queue_name": "q", "record": True})
    assert recorded.json()["record"] is True
    wrong = client.patch("/v1/campaigns/spring", json={"record": "sometimes"})
    assert wrong.status_code == 422 and _fields(wrong.json()) == ["body.record"]
