"""The webhook routes through the real ASGI app on SQLite and PostgreSQL: a call's
deliveries with each try (a manager, or the system key that placed the call; another system
key is told there is no such call); a signed test event to a real receiver on loopback,
verified with the documented recipe; bad requests named by field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt
from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.ports import Role
from dialer.apikeys.service import issue_key, set_key_webhook
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from dialer.postcall.adapters import HttpxSender
from dialer.postcall.service import deliver_webhook
from dialer.postcall.wiring import post_call_deps
from tests.dialer.postcall.test_postcall_webhook_http import ended_call
from tests.support.api import bearer, issue_test_keys
from tests.support.clock import FakeClock
from tests.support.webhooks import Receiver, Reply, documented_verify, receiving
from workers.api import create_app
from workers.context import AppContext

T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(
        AppContext(load_settings(), sessions=sessions), notify=None, trunks=MemoryTrunks()
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def system_key(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """A new system key: (key id, token)."""
    issued = issue_key(SqlKeyStore(sessions), FakeClock(T0), Role.SYSTEM, label="crm")
    return issued.key.key_id, issued.token


def test_a_calls_deliveries_list_each_try_for_a_manager_and_the_owning_key_only(
    client: TestClient, sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    attempt_id, _ = ended_call(sessions, f"{receiver.base_url}/calls")
    receiver.script(Reply(503, "down for maintenance", {"Retry-After": "120"}))
    sender = HttpxSender(timeout_s=5.0)
    try:
        deliver_webhook(attempt_id, post_call_deps(sessions, FakeClock(T0), sender))
    finally:
        sender.close()
    tokens = issue_test_keys(sessions)
    owner_id, owner = system_key(sessions)
    with transaction(sessions) as session:
        session.execute(
            update(CallAttempt).where(CallAttempt.id == attempt_id).values(api_key_id=owner_id)
        )
    url = "/v1/calls/u-1/deliveries"
    expected = {
        "call_uuid": "u-1",
        "deliveries": [
            {
                "event": "call.ended",
                "delivery": "u-1",
                "state": "retrying",
                "url": f"{receiver.base_url}/calls",
                "next_try_at": "2026-11-21T15:02:00Z",
                "delivered_at": None,
                "tries": [
                    {
                        "tried_at": "2026-11-21T15:00:00Z",
                        "url": f"{receiver.base_url}/calls",
                        "status_code": 503,
                        "error": "down for maintenance",
                        "next_try_at": "2026-11-21T15:02:00Z",
                    }
                ],
            }
        ],
    }
    for token in (tokens[Role.MANAGER], owner):
        got = client.get(url, headers=bearer(token))
        assert got.status_code == 200, got.text
        assert got.json() == expected
    other = client.get(url, headers=bearer(tokens[Role.SYSTEM]))  # not the key that placed it
    assert other.status_code == 404 and other.json()["detail"] == "no call with uuid u-1"
    assert client.get(url, headers=bearer(tokens[Role.AGENT])).status_code == 403
    missing = client.get("/v1/calls/nope/deliveries", headers=bearer(tokens[Role.MANAGER]))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_test_event_is_signed_and_sent_to_the_callers_webhook(
    client: TestClient, sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    _, campaign_secret = ended_call(sessions, f"{receiver.base_url}/campaign")
    key_id, token = system_key(sessions)
    key_secret = set_key_webhook(SqlKeyStore(sessions), key_id, f"{receiver.base_url}/key")
    assert key_secret is not None
    receiver.script(Reply(204), Reply(500, "no"))
    mine = client.post("/v1/webhooks/test", headers=bearer(token))
    assert mine.status_code == 200, mine.text
    assert mine.json() == {
        "url": f"{receiver.base_url}/key", "delivered": True, "status_code": 204, "error": "",
    }  # fmt: skip
    manager = issue_test_keys(sessions)[Role.MANAGER]
    theirs = client.post("/v1/webhooks/test", json={"campaign": "c-u-1"}, headers=bearer(manager))
    assert theirs.json() == {
        "url": f"{receiver.base_url}/campaign", "delivered": False, "status_code": 500,
        "error": "no",
    }  # fmt: skip
    verify = documented_verify()
    (to_key, to_campaign) = receiver.requests
    assert (to_key.path, to_campaign.path) == ("/key", "/campaign")
    assert verify(key_secret, to_key.headers["x-dialer-signature"], to_key.body)
    assert verify(campaign_secret, to_campaign.headers["x-dialer-signature"], to_campaign.body)
    assert to_key.headers["x-dialer-event"] == "webhook.test"
    assert b'"api_key_id":"' + key_id.encode() + b'"' in to_key.body
    assert b'"campaign":"c-u-1"' in to_campaign.body


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("manager", None, 422, "body.campaign"),
        ("manager", {"campaign": "nope"}, 422, "body.campaign"),
        ("manager", {"campaign": "c-u-1", "url": "http://x"}, 422, "body.url"),
        ("manager", {"campaign": 5}, 422, "body.campaign"),
        ("system", {"campaign": "c-u-1"}, 422, "body.campaign"),
        ("system", None, 409, None),
    ],
)
def test_a_test_event_request_that_cannot_be_met_is_refused_naming_why(
    client: TestClient,
    sessions: sessionmaker[Session],
    who: str,
    body: dict[str, object] | None,
    status: int,
    field: str | None,
) -> None:
    ended_call(sessions, "http://127.0.0.1:9/never")
    tokens = issue_test_keys(sessions)
    token = tokens[Role.MANAGER] if who == "manager" else tokens[Role.SYSTEM]
    got = client.post("/v1/webhooks/test", json=body, headers=bearer(token))
    assert got.status_code == status, got.text
    assert got.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in got.json()["errors"]]
    else:
        assert "has no webhook" in got.json()["detail"]


def test_a_campaign_without_webhook_has_nothing_to_test(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    from campaigns.service import create_campaign, parse_spec

    with transaction(sessions) as session:
        create_campaign(session, parse_spec(name="quiet", queue_name="q@default"))
    manager = issue_test_keys(sessions)[Role.MANAGER]
    got = client.post("/v1/webhooks/test", json={"campaign": "quiet"}, headers=bearer(manager))
    assert got.status_code == 409 and got.json()["detail"] == "campaign quiet has no webhook"


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("GET", "/v1/calls/u%001/deliveries", None, "path.call_uuid"),
        ("GET", f"/v1/calls/{'x' * 65}/deliveries", None, "path.call_uuid"),
        ("POST", "/v1/webhooks/test", {"campaign": "c\u0000"}, "body.campaign"),
        ("POST", "/v1/webhooks/test", {"campaign": "x" * 101}, "body.campaign"),
    ],
)
def test_a_malformed_uuid_or_campaign_name_is_a_422_naming_it(
    client: TestClient,
    sessions: sessionmaker[Session],
    method: str,
    url: str,
    body: dict[str, object] | None,
    field: str,
) -> None:
    manager = issue_test_keys(sessions)[Role.MANAGER]
    got = client.request(method, url, json=body, headers=bearer(manager))
    assert got.status_code == 422, got.text
    assert [e["field"] for e in got.json()["errors"]] == [field]
