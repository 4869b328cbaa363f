"""The web console's sessions and the agent desk's routes, over the app `dialer api` serves:
a page without a session goes to the login; a key logs in into an HTTP-only, same-site
cookie; an agent reaches only its own desk and acts only on itself (pages, API, WebSocket);
a desk event published on the bus reaches the agent's socket with the lead's card; the
desk's disposition moves the lead through the disposition service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.service import get_campaign
from dialer.agent_state import AgentState
from dialer.apikeys.http import SESSION_COOKIE
from dialer.apikeys.ports import Role
from dialer.calls.machine import CallState
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.desk.ports import DeskEvent, DeskEventKind
from dialer.desk.wiring import desk_bus
from dialer.listener.fakes import MemoryTrunks
from dialer.listener.wiring import live_state
from tests.conftest import seed_running_campaign
from tests.support.api import bearer, issue_test_keys
from workers.api import create_app
from workers.context import AppContext

pytestmark = pytest.mark.integration
AGENT = "1001@default"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.fixture
def client(sessions: sessionmaker[Session], redis_client: redis.Redis[str]) -> Iterator[TestClient]:
    context = AppContext(load_settings(), sessions=sessions, redis_client=redis_client)
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def _login(client: TestClient, token: str, next: str = "") -> str:
    got = client.post("/login", data={"key": token, "next": next})
    assert got.status_code == 303, got.text
    return str(got.headers["location"])


def test_pages_need_a_session_and_a_key_opens_the_page_of_its_role(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    tokens = issue_test_keys(sessions, agent=AGENT)
    for page in ("/", "/console", "/console/agents", f"/desk/{AGENT}"):
        got = client.get(page)
        assert got.status_code == 303 and got.headers["location"].startswith("/login"), page
    assert client.get("/console/trunks").headers["location"] == "/login?next=/console/trunks"
    assert client.post("/login", data={"key": "dk_0_nope"}).status_code == 401
    assert client.post("/login", data={"key": tokens[Role.SYSTEM]}).status_code == 403
    assert "set-cookie" not in client.post("/login", data={"key": tokens[Role.SYSTEM]}).headers

    got = client.post("/login", data={"key": tokens[Role.MANAGER], "next": "//evil.example/"})
    assert got.status_code == 303 and got.headers["location"] == "/console"
    cookie = got.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    for page in ("/console", "/console/trunks", "/console/dnc", "/console/agents",
                 "/console/campaigns/spring", f"/desk/{AGENT}"):  # fmt: skip
        assert client.get(page).status_code == 200, page
    assert client.post("/logout").headers["location"] == "/login"
    client.cookies.clear()
    assert client.get("/console").status_code == 303

    assert _login(client, tokens[Role.AGENT], next="/console") == f"/desk/{AGENT}"
    assert client.get(f"/desk/{AGENT}").status_code == 200
    assert client.get("/desk/1002@default").headers["location"] == f"/desk/{AGENT}"
    assert client.get("/console").headers["location"] == f"/desk/{AGENT}"


def test_the_session_cookie_is_a_key_for_the_api_and_changes_need_the_console_header(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    tokens = issue_test_keys(sessions, agent=AGENT)
    _login(client, tokens[Role.AGENT])
    me = client.get("/v1/me")
    assert me.status_code == 200 and me.json()["agent"] == AGENT
    refused = client.post("/v1/agents/1002@default/status", json={"status": "ready"})
    assert refused.status_code == 403 and "X-Dialer-Console" in refused.json()["detail"]
    other = client.post(
        "/v1/agents/1002@default/status", json={"status": "ready"},
        headers={"X-Dialer-Console": "1"},
    )  # fmt: skip
    assert other.status_code == 403 and "acts as" in other.json()["detail"]
    other = client.post(
        "/v1/agents/1002@default/dispositions", json={"call_uuid": "u1", "disposition": "sale"},
        headers={"X-Dialer-Console": "1"},
    )  # fmt: skip
    assert other.status_code == 403
    client.cookies.set(SESSION_COOKIE, "dk_000000000000_nope")
    assert client.get("/v1/me").status_code == 401


def _seed_call(sessions: sessionmaker[Session], agent: str) -> tuple[int, int]:
    """A lead called twice, the second call connected to ``agent`` and ended: its attempt
    id and the lead's id."""
    campaign_id = seed_running_campaign(sessions, 1, {})
    with transaction(sessions) as session:
        lead = session.scalars(select(Lead)).one()
        lead.custom_fields = {"name": "Li Lei", "plan": "gold"}
        lead.attempts = 2
        for no, outcome in ((1, "no_answer"), (2, "connected")):
            session.add(CallAttempt(
                call_uuid=f"u{no}", lead_id=lead.id, campaign_id=campaign_id, attempt_no=no,
                dialed_number=lead.phone_e164, outcome=outcome,
                agent=agent if no == 2 else None, originated_at=T0 + timedelta(minutes=no),
                ended_at=T0 + timedelta(minutes=no, seconds=30),
            ))  # fmt: skip
    with sessions() as session:
        attempt = session.scalars(select(CallAttempt).where(CallAttempt.call_uuid == "u2")).one()
        return attempt.id, attempt.lead_id


def test_an_agents_socket_gets_its_screen_pop_and_the_disposition_moves_the_lead(
    client: TestClient, sessions: sessionmaker[Session], redis_client: redis.Redis[str]
) -> None:
    tokens = issue_test_keys(sessions, agent=AGENT)
    attempt_id, lead_id = _seed_call(sessions, AGENT)
    for agent, role in (("1002@default", Role.AGENT), (AGENT, Role.SYSTEM)):
        url = f"/v1/agents/{agent}/events"
        with (
            client.websocket_connect(url, headers=bearer(tokens[role])) as socket,
            pytest.raises(WebSocketDisconnect) as refused,
        ):
            socket.receive_json()
        assert refused.value.code == 1008
    _login(client, tokens[Role.AGENT])
    bus = desk_bus(redis_client)
    with client.websocket_connect(f"/v1/agents/{AGENT}/events") as socket:
        bus.publish(DeskEvent(AGENT, DeskEventKind.STATE, value="Waiting"))
        assert socket.receive_json()["value"] == "Waiting"
    # a desk opened during a call is shown that call first (the listener's live state)
    with sessions() as session:
        campaign_id = session.get(CallAttempt, attempt_id).campaign_id  # type: ignore[union-attr]
    live_state(redis_client).put_call("fs1", CallState(
        "u2", campaign_id, lead_id, attempt_id, "t", answered_at_us=1, connected_at_us=2,
        agent=AGENT))  # fmt: skip
    with client.websocket_connect(f"/v1/agents/{AGENT}/events") as socket:
        current = socket.receive_json()
        assert (current["type"], current["call_uuid"]) == ("call", "u2")
        assert current["lead"]["name"] == "Li Lei"
        bus.publish(DeskEvent("1002@default", DeskEventKind.STATUS, value="Available"))
        bus.publish(DeskEvent(AGENT, DeskEventKind.CALL, call_uuid="u2", attempt_id=attempt_id,
                              lead_id=lead_id, campaign_id=1))  # fmt: skip
        message = socket.receive_json()
        assert message["type"] == "call" and message["call_uuid"] == "u2"
        lead = message["lead"]
        assert (lead["name"], lead["number"], lead["campaign"]) == (
            "Li Lei",
            "+8613800000000",
            "campaign",
        )
        assert lead["custom_fields"] == {"name": "Li Lei", "plan": "gold"}
        assert lead["attempts"] == 2
        assert [e["outcome"] for e in lead["earlier"]] == ["no_answer"]
        bus.publish(DeskEvent(AGENT, DeskEventKind.CALL_END, call_uuid="u2"))
        assert socket.receive_json()["type"] == "call_end"
    console = {"X-Dialer-Console": "1"}
    not_mine = client.post(f"/v1/agents/{AGENT}/dispositions", headers=console,
                           json={"call_uuid": "u1", "disposition": "sale"})  # fmt: skip
    assert not_mine.status_code == 404
    sale = {"call_uuid": "u2", "disposition": "sale", "note": "gold plan"}
    done = client.post(f"/v1/agents/{AGENT}/dispositions", headers=console, json=sale)
    assert done.status_code == 200, done.text
    assert done.json()["lead_status"] == "done"
    with sessions() as session:
        assert session.get(Lead, lead_id).status is LeadStatus.DONE  # type: ignore[union-attr]
        attempt = session.get(CallAttempt, attempt_id)
        assert attempt is not None and attempt.disposition == "sale"
    again = client.post(f"/v1/agents/{AGENT}/dispositions", headers=console,
                        json={"call_uuid": "u2", "disposition": "dnc"})  # fmt: skip
    assert again.status_code == 409


def test_a_campaigns_live_figures_are_read_from_the_listeners_live_state(
    client: TestClient, sessions: sessionmaker[Session], redis_client: redis.Redis[str]
) -> None:
    seed_running_campaign(sessions, 1, {})
    headers = bearer(issue_test_keys(sessions)[Role.MANAGER])
    live = live_state(redis_client)
    live.put_agent("fs1", AgentState("1001@default", "Available", "In a queue call",
                                     queues=("campaign@default",)))  # fmt: skip
    live.put_agent("fs1", AgentState("1002@default", "On Break", "Idle",
                                     queues=("campaign@default",)))  # fmt: skip
    with sessions() as session:
        campaign_id = get_campaign(session, "campaign").id
    live.put_call("fs1", CallState("u1", campaign_id, 1, 1, "t", created=True))
    live.put_call("fs1", CallState("u2", campaign_id, 1, 2, "t", answered_at_us=1,
                                   connected_at_us=2, agent="1001@default"))  # fmt: skip
    live.put_call("fs1", CallState("u3", campaign_id + 1, 1, 3, "t", created=True))
    got = client.get("/v1/campaigns/campaign/live", headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["agents_by_phase"]["talking"] == 1 and body["agents_by_phase"]["away"] == 1
    assert (body["ringing"], body["waiting"], body["talking"]) == (1, 0, 1)
    assert body["dial_level"] == 2.0
    assert client.get("/v1/campaigns/nope/live", headers=headers).status_code == 404
