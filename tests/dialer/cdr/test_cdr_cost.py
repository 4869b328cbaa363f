"""Every CDR is stored with its billsec, the trunk's cost (the number's rate, billed in the
deck's increments), the agent and the queue wait; ``dialer report cost`` and
``GET /v1/reports/cost`` sum them per campaign, trunk and day."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Lead
from dialer.apikeys.ports import Role
from dialer.cdr.adapters import SqlCdrStore
from dialer.cdr.parse import parse_cdr
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from dialer.routing.ratedeck import RateEntry
from dialer.routing.service import import_rates
from tests.conftest import seed_running_campaign
from tests.support.api import bearer, issue_test_keys
from tests.support.cdr import captured_post
from tests.support.clock import FakeClock
from tests.support.transcripts import http_capture_text
from workers.api import create_app
from workers.context import AppContext

CREDENTIALS = "fs1:s3cret"
AUTH = {"Authorization": "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()}
BRIDGED = parse_cdr(http_capture_text("v1_cdr_answered_bridged.cdr.xml"))
ABANDONED = parse_cdr(http_capture_text("v1_cdr_abandoned.cdr.xml"))
NOW = datetime.fromtimestamp(BRIDGED.started_us / 1e6, UTC)


@pytest.fixture
def api(sessions: sessionmaker[Session]) -> Iterator[tuple[TestClient, int]]:
    campaign_id = seed_running_campaign(sessions, 2, {"carrier_a": 10})
    with transaction(sessions) as session:
        # 6/6 at 0.06 a minute for +86, 60/60 at 0.12 plus 0.01 a call for +86138
        import_rates(session, "carrier_a", [RateEntry("86", Decimal("0.06"), 6),
                     RateEntry("86138", Decimal("0.12"), 60, Decimal("0.01"))])  # fmt: skip
        lead_ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
        session.execute(update(Lead).values(status="dialing"))
        for lead_id, (cdr, number) in zip(
            lead_ids, [(BRIDGED, "+8613800000000"), (ABANDONED, "+8615000000000")], strict=True
        ):
            session.add(CallAttempt(call_uuid=cdr.call_uuid, lead_id=lead_id,
                                    campaign_id=campaign_id, node="fs1", dialed_number=number,
                                    originated_at=NOW))  # fmt: skip
    settings = load_settings(fsapi_credentials=CREDENTIALS, timezone="Asia/Shanghai")
    context = AppContext(settings, clock=FakeClock(NOW + timedelta(hours=1)), sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as client:
        yield client, campaign_id


def _post(client: TestClient, capture: str, ids: tuple[int, int, int]) -> None:
    content_type, body = captured_post(capture, ids)
    reply = client.post("/fsapi/cdr", content=body, headers={"Content-Type": content_type, **AUTH})
    assert reply.status_code == 200, reply.text


def _attempt_ids(sessions: sessionmaker[Session]) -> dict[str, tuple[int, int, int]]:
    with sessions() as session:
        rows = session.execute(select(CallAttempt.call_uuid, CallAttempt.campaign_id,
                                      CallAttempt.lead_id, CallAttempt.id))  # fmt: skip
        return {u: (c, lead, a) for u, c, lead, a in rows}


def test_each_cdr_is_priced_by_its_trunks_deck(
    api: tuple[TestClient, int], sessions: sessionmaker[Session]
) -> None:
    client, _ = api
    ids = _attempt_ids(sessions)
    _post(client, "v1_cdr_answered_bridged", ids[BRIDGED.call_uuid])
    _post(client, "v1_cdr_abandoned", ids[ABANDONED.call_uuid])
    lines = {x.call_uuid: x for x in SqlCdrStore(sessions).cost_lines(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))}  # fmt: skip
    bridged = lines[BRIDGED.call_uuid]
    # +8613800000000: +86138's 60/60 at 0.12 + 0.01: 20 s billed as 60 s
    assert (bridged.billsec, bridged.billed_s, bridged.cost) == (20, 60, Decimal("0.130000"))
    assert (bridged.agent, bridged.queue_wait_s, bridged.trunk) == (
        "agent6@default",
        1,
        "carrier_a",
    )
    abandoned = lines[ABANDONED.call_uuid]
    # +8615000000000: +86's 6/6 at 0.06: 5 s billed as 6 s
    assert (abandoned.billsec, abandoned.billed_s, abandoned.cost) == (5, 6, Decimal("0.006000"))
    assert (abandoned.agent, abandoned.queue_wait_s) == ("", 2)


def test_the_report_sums_per_campaign_trunk_and_day(
    api: tuple[TestClient, int], sessions: sessionmaker[Session]
) -> None:
    client, _ = api
    ids = _attempt_ids(sessions)
    _post(client, "v1_cdr_answered_bridged", ids[BRIDGED.call_uuid])
    _post(client, "v1_cdr_abandoned", ids[ABANDONED.call_uuid])
    manager = bearer(issue_test_keys(sessions)[Role.MANAGER])
    reply = client.get("/v1/reports/cost", params={"since": "2000-01-01T00:00:00Z"},
                       headers=manager)  # fmt: skip
    assert reply.status_code == 200, reply.text
    rows = reply.json()["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["campaign"], row["trunk"], row["calls"], row["answered"]) == (
        "campaign", "carrier_a", 2, 2)  # fmt: skip
    assert (row["billsec"], Decimal(row["cost"]), Decimal(row["billed_min"])) == (
        25, Decimal("0.136"), Decimal("1.10"))  # fmt: skip
    assert row["queue_wait_s"] == 1.5 and row["unpriced"] == 0
    assert row["day"] == NOW.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    empty = client.get("/v1/reports/cost", params={"since": "2000-01-01T00:00:00Z",
                       "until": "2000-01-02T00:00:00Z"}, headers=manager)  # fmt: skip
    assert empty.status_code == 200 and empty.json()["rows"] == []
    wrong = client.get("/v1/reports/cost", params={"since": "2100-01-01T00:00:00Z",
                       "until": "2000-01-02T00:00:00Z"}, headers=manager)  # fmt: skip
    assert wrong.status_code == 422
