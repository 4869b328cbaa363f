"""Every ``/v1`` route of `dialer api` sits behind an API key of the right role: without a key
(or with a wrong or revoked one) 401, with a key of another role 403. The table is read off
the app itself, so a route added without a gate fails here. Errors are problem documents;
the OpenAPI document and its pages are served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.ports import Role
from dialer.apikeys.service import revoke_key
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from tests.support.api import bearer, issue_test_keys
from tests.support.clock import FakeClock
from workers.api import create_app
from workers.context import AppContext


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(
        AppContext(load_settings(), sessions=sessions), notify=None, trunks=MemoryTrunks()
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


# The roles each route is open to: the API's access rules, written out. A route served but
# missing here (or listed but not served) fails the test.
_MANAGER = frozenset({Role.MANAGER})
_MANAGER_OR_AGENT = frozenset({Role.MANAGER, Role.AGENT})
ROUTE_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/v1/me"): frozenset(Role),
    ("GET", "/v1/calls/{call_uuid}/deliveries"): frozenset({Role.MANAGER, Role.SYSTEM}),
    ("POST", "/v1/webhooks/test"): frozenset({Role.MANAGER, Role.SYSTEM}),
    ("GET", "/v1/trunks"): _MANAGER,
    ("POST", "/v1/trunks"): _MANAGER,
    ("GET", "/v1/trunks/{name}"): _MANAGER,
    ("PATCH", "/v1/trunks/{name}"): _MANAGER,
    ("DELETE", "/v1/trunks/{name}"): _MANAGER,
    ("PUT", "/v1/trunks/{name}/rates"): _MANAGER,
    ("GET", "/v1/trunks/{name}/rates"): _MANAGER,
    ("GET", "/v1/route"): _MANAGER,
    ("GET", "/v1/reports/cost"): _MANAGER,
    ("GET", "/v1/nodes/{node}/gateways"): _MANAGER,
    ("GET", "/v1/nodes/{node}/extensions"): _MANAGER,
    ("GET", "/v1/recordings/{call_uuid}"): _MANAGER,
    ("GET", "/v1/agents"): _MANAGER,
    ("POST", "/v1/agents"): _MANAGER,
    ("GET", "/v1/agents/{name}"): _MANAGER_OR_AGENT,
    ("DELETE", "/v1/agents/{name}"): _MANAGER,
    ("POST", "/v1/agents/{name}/tiers"): _MANAGER,
    ("DELETE", "/v1/agents/{name}/tiers/{queue}"): _MANAGER,
    ("POST", "/v1/agents/{name}/status"): _MANAGER_OR_AGENT,
    ("POST", "/v1/agents/{name}/dispositions"): _MANAGER_OR_AGENT,
    ("POST", "/v1/calls"): frozenset({Role.SYSTEM}),
    ("POST", "/v1/callbacks"): frozenset({Role.SYSTEM}),
    ("GET", "/v1/calls/{call_uuid}"): frozenset({Role.SYSTEM, Role.MANAGER}),
    **{
        route: _MANAGER
        for route in (
            ("POST", "/v1/campaigns"),
            ("GET", "/v1/campaigns"),
            ("GET", "/v1/campaigns/{name}"),
            ("PATCH", "/v1/campaigns/{name}"),
            ("GET", "/v1/campaigns/{name}/report"),
            ("GET", "/v1/campaigns/{name}/live"),
            ("GET", "/v1/campaigns/{name}/preflight"),
            ("POST", "/v1/campaigns/{name}/start"),
            ("POST", "/v1/campaigns/{name}/pause"),
            ("POST", "/v1/campaigns/{name}/stop"),
            ("GET", "/v1/dnc"),
            ("POST", "/v1/dnc"),
            ("DELETE", "/v1/dnc/{entry_id}"),
            ("POST", "/v1/campaigns/{name}/lead-lists"),
            ("GET", "/v1/campaigns/{name}/lead-lists"),
            ("GET", "/v1/campaigns/{name}/lead-lists/{lead_list_id}"),
            ("GET", "/v1/campaigns/{name}/lead-lists/{lead_list_id}/rejects"),
            ("DELETE", "/v1/campaigns/{name}/lead-lists/{lead_list_id}"),
        )
    },
}


def _served_routes(client: TestClient) -> set[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def _url(path: str) -> str:
    # a placeholder for each path parameter: the gate answers before parameters are read
    return "/".join("1" if p.startswith("{") else p for p in path.split("/"))


def test_every_v1_route_refuses_a_request_without_a_valid_key_of_its_role(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    assert _served_routes(client) == set(ROUTE_ROLES)
    tokens = issue_test_keys(sessions)
    revoked = issue_test_keys(sessions)[Role.MANAGER]
    revoke_key(SqlKeyStore(sessions), FakeClock(), revoked.split("_")[1])
    wrong: list[str] = []
    for (method, path), roles in sorted(ROUTE_ROLES.items()):
        url = _url(path)
        for headers, expected in (
            ({}, 401),
            (bearer("dk_000000000000_nope"), 401),
            (bearer(revoked), 401),
            *((bearer(tokens[role]), 403) for role in Role if role not in roles),
        ):
            got = client.request(method, url, headers=headers)
            if got.status_code != expected:
                wrong.append(f"{method} {path} {headers}: {got.status_code}, expected {expected}")
            elif got.headers["content-type"] != "application/problem+json":
                wrong.append(f"{method} {path}: {got.headers['content-type']}")
        for role in roles:
            got = client.request(method, url, headers=bearer(tokens[role]))
            if got.status_code == 401 or "may not do this" in got.text:
                wrong.append(f"{method} {path}: a {role} key refused ({got.status_code})")
    assert not wrong, "\n".join(wrong)


def test_a_key_is_told_what_it_is_and_a_401_says_how_to_authenticate(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    tokens = issue_test_keys(sessions, agent="1001@default")
    me = client.get("/v1/me", headers=bearer(tokens[Role.AGENT]))
    assert me.status_code == 200
    assert me.json()["role"] == "agent" and me.json()["agent"] == "1001@default"
    refused = client.get("/v1/me")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "an API key is needed: Authorization: Bearer <key>",
    }


def test_the_openapi_document_and_its_pages_are_served_and_name_the_bearer_scheme(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    assert "/v1/me" in doc["paths"]
    assert not any(p.startswith("/fsapi") for p in doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert client.get("/docs").status_code == 200
    missing = client.get("/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_nul_character_anywhere_in_a_request_is_refused_naming_its_field(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    headers = bearer(issue_test_keys(sessions)[Role.MANAGER])
    got = client.get("/v1/me", params={"x": "a\x00b"}, headers=headers)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "query.x"
    got = client.post("/v1/dnc", json={"number": "138\x00", "note": {"k\x00": 1}}, headers=headers)
    assert got.status_code == 422
    assert [e["field"] for e in got.json()["errors"]] == ["body.number", "body.note.k\x00"]
