"""``/v1/dnc`` through the real app on PostgreSQL and SQLite: numbers are normalized as the
lead import normalizes them and the pending leads they cover turn ``dnc`` at once; a number
that does not parse, an expiry in the past or an unknown campaign is a 422 naming the field
with nothing stored; entries are listed a page at a time and removed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import Lead
from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from tests.conftest import SeedCampaign
from tests.support.api import bearer, issue_test_keys
from workers.api import create_app
from workers.context import AppContext


@pytest.fixture
def client(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(upload_dir=str(tmp_path / "up"))
    app = create_app(AppContext(settings, sessions=sessions), notify=None, trunks=MemoryTrunks())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        yield client


def _statuses(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        return {lead.phone_e164: lead.status.value for lead in s.scalars(select(Lead))}


def test_numbers_are_normalized_and_the_leads_they_cover_turn_dnc(
    client: TestClient, sessions: sessionmaker[Session], seed_campaign: SeedCampaign
) -> None:
    seed_campaign(leads=3, trunks={})  # +8613800000000 .. +8613800000002
    added = client.post("/v1/dnc", json={"number": "138 0000 0001", "reason": "asked"})
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["entry"]["number"] == "+8613800000001" and body["leads_marked"] == 1
    assert (body["entry"]["prefix"], body["entry"]["source"]) == (False, "api")
    prefix = client.post("/v1/dnc", json={"number": "+861380000000", "prefix": True,
                                          "campaign": "campaign"})  # fmt: skip
    assert prefix.status_code == 201 and prefix.json()["leads_marked"] == 2
    assert set(_statuses(sessions).values()) == {"dnc"}
    us = client.post("/v1/dnc", json={"number": "(415) 555-0132", "region": "US",
                                      "expires_at": "2099-01-01T00:00:00"})  # fmt: skip
    assert us.status_code == 201 and us.json()["entry"]["number"] == "+14155550132"
    expires = datetime.fromisoformat(us.json()["entry"]["expires_at"])
    assert expires == datetime(2098, 12, 31, 16, tzinfo=UTC)  # read in Asia/Shanghai


def test_bad_entries_are_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, sessions: sessionmaker[Session], seed_campaign: SeedCampaign
) -> None:
    seed_campaign(leads=1, trunks={})
    cases = {
        "body.number": {"number": "12ab"},
        "body.expires_at": {"number": "13800000000", "expires_at": "2001-01-01T00:00:00Z"},
        "body.campaign": {"number": "13800000000", "campaign": "autumn"},
        "body.prefix": {"number": "13800000000", "prefix": "sometimes"},
        "body.colour": {"number": "13800000000", "colour": "red"},
        "body.region": {"number": "13800000000", "region": "XX"},
    }
    for field, entry in cases.items():
        refused = client.post("/v1/dnc", json=entry)
        assert refused.status_code == 422, (field, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert "'12ab'" in client.post("/v1/dnc", json=cases["body.number"]).json()["detail"]
    assert client.get("/v1/dnc").json()["total"] == 0
    assert set(_statuses(sessions).values()) == {"pending"}


def test_entries_are_listed_a_page_at_a_time_newest_first_and_removed(
    client: TestClient, seed_campaign: SeedCampaign
) -> None:
    seed_campaign(leads=0, trunks={})
    numbers = [f"+861390000000{i}" for i in range(5)]
    ids = [client.post("/v1/dnc", json={"number": n}).json()["entry"]["id"] for n in numbers]
    client.post("/v1/dnc", json={"number": "+8613912345678", "campaign": "campaign"})
    first = client.get("/v1/dnc", params={"limit": 2}).json()
    assert (first["total"], first["limit"], first["offset"]) == (6, 2, 0)
    assert [e["number"] for e in first["entries"]] == ["+8613912345678", numbers[4]]
    last = client.get("/v1/dnc", params={"limit": 2, "offset": 4}).json()
    assert [e["number"] for e in last["entries"]] == [numbers[1], numbers[0]]
    own = client.get("/v1/dnc", params={"campaign": "campaign"}).json()
    assert [e["number"] for e in own["entries"]] == ["+8613912345678"]
    assert client.get("/v1/dnc", params={"limit": 0}).status_code == 422
    assert client.delete(f"/v1/dnc/{ids[0]}").status_code == 204
    gone = client.delete(f"/v1/dnc/{ids[0]}")
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/dnc").json()["total"] == 5


def test_numbers_without_country_follow_the_default_region_setting(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = load_settings(upload_dir=str(tmp_path / "up"), default_region="US")
    app = create_app(AppContext(settings, sessions=sessions), notify=None, trunks=MemoryTrunks())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        made = client.post("/v1/campaigns", json={"name": "spring", "queue_name": "sales"})
        assert made.status_code == 201 and made.json()["default_region"] == "US", made.text
        gb = {"name": "autumn", "queue_name": "sales", "default_region": "GB"}
        assert client.post("/v1/campaigns", json=gb).json()["default_region"] == "GB"
        listed = client.post("/v1/dnc", json={"number": "650 253 0000"})
        assert listed.json()["entry"]["number"] == "+16502530000", listed.text
        own = client.post("/v1/dnc", json={"number": "020 7946 0018", "campaign": "autumn"})
        assert own.json()["entry"]["number"] == "+442079460018", own.text
        given = client.post("/v1/dnc", json={"number": "13800138000", "region": "CN"})
        assert given.json()["entry"]["number"] == "+8613800138000", given.text
