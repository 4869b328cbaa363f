"""``POST /fsapi/xml_curl`` of `dialer api` on a real database: the captured fetches (w1-w3)
answered from the campaigns, trunks and agents stored; the switch authenticates."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import CampaignSpec, create_campaign
from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentRecord
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from dialer.routing.model import Trunk
from dialer.routing.service import add_trunk
from fs_conf.xml_curl import NOT_FOUND_XML
from tests.support.clock import FakeClock
from tests.support.transcripts import http_request
from workers.api import create_app
from workers.context import AppContext

CREDENTIALS = "fs1:s3cret"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _auth(credentials: str = CREDENTIALS) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _post(client: TestClient, capture: str, **headers: str) -> tuple[int, str, str]:
    _line, captured, body = http_request(capture)
    reply = client.post(
        "/fsapi/xml_curl?node=fs1",
        content=body,
        headers={"Content-Type": captured["content-type"], **headers},
    )
    return reply.status_code, reply.headers.get("content-type", ""), reply.text


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="sales", queue_name="sales@default"))
        add_trunk(session, Trunk(name="carrier_a", proxy_host="127.0.0.1", proxy_port=5090))
    SqlAgentStore(sessions).put(AgentRecord("agent1@default", "user/agent1"))
    settings = load_settings(fsapi_credentials=CREDENTIALS)
    context = AppContext(settings, clock=FakeClock(T0), sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as test_client:
        yield test_client


def test_the_captured_fetches_are_answered_from_the_database(client: TestClient) -> None:
    status, content_type, text = _post(client, "w1_xmlcurl_dialplan_campaign", **_auth())
    assert status == 200 and content_type.startswith("text/xml")
    names = {e.get("name") for e in ET.fromstring(text).iter("extension")}
    assert {"cc_sales", "dialer_after_queue", "dialer_dnc"} <= names
    status, _, text = _post(client, "w2_xmlcurl_directory_agent1_served", **_auth())
    assert [u.get("id") for u in ET.fromstring(text).iter("user")] == ["agent1"]
    assert _post(client, "w2_xmlcurl_directory_agent9_not_found", **_auth())[2] == NOT_FOUND_XML
    status, _, text = _post(client, "w3_xmlcurl_configuration_callcenter_not_found", **_auth())
    assert [q.get("name") for q in ET.fromstring(text).iter("queue")] == ["sales@default"]


def test_the_switch_authenticates(client: TestClient) -> None:
    status, _, _ = _post(client, "w1_xmlcurl_dialplan_campaign")
    assert status == 401
    status, _, _ = _post(client, "w1_xmlcurl_dialplan_campaign", **_auth("fs1:wrong"))
    assert status == 401


def test_without_credentials_every_fetch_is_refused(sessions: sessionmaker[Session]) -> None:
    context = AppContext(load_settings(), sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as plain:
        status, _, text = _post(plain, "w1_xmlcurl_dialplan_campaign", **_auth())
    assert status == 503 and "DIALER_FSAPI_CREDENTIALS" in text
