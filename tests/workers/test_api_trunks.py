"""``/v1/trunks``, ``/v1/trunks/{name}/rates`` and ``/v1/route`` through the real app, on
SQLite and PostgreSQL, with the trunk state (lines in use, health) in the test Redis: a bad
value is a 422 naming its field and writes nothing, a rate deck is all or nothing, the route
is explained as ``dialer route`` explains it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from dialer.routing.lines import declare_idle
from dialer.routing.ports import ReservationRequest
from dialer.routing.wiring import TrunkState, redis_trunk_state
from tests.support.api import bearer, issue_test_keys
from tests.support.net import free_port
from workers.api import create_app
from workers.context import AppContext

NAMESPACE = "api-trunks"
CARRIER = {
    "name": "carrier1",
    "proxy": "8.8.8.8:5060",
    "callee_prefix": "6",
    "caller_ids": ["20220601"],
    "max_concurrency": 500,
    "per_number_cap": 1,
    "blind_areas": ["北京", "新疆", "西藏"],
}


@pytest.fixture
def context(sessions: sessionmaker[Session], redis_client: redis.Redis[str]) -> AppContext:
    return AppContext(
        load_settings(), sessions=sessions, redis_client=redis_client, namespace=NAMESPACE
    )


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(issue_test_keys(context.sessions)[Role.MANAGER]))
        yield client


@pytest.fixture
def state(context: AppContext) -> TrunkState:
    return redis_trunk_state(context.redis, context.namespace)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", ())}


def test_a_trunk_is_created_read_listed_with_its_lines_and_health(
    client: TestClient, state: TrunkState, context: AppContext
) -> None:
    created = _ok(client.post("/v1/trunks", json={**CARRIER, "password": "s3cret"}), 201)
    assert created["proxy"] == "8.8.8.8:5060" and created["blind_areas"] == CARRIER["blind_areas"]
    assert created["password_set"] is True and "password" not in created
    assert created["register"] is False and created["number_format"] == "national"
    assert created["live"] is True and created["lines_in_use"] == 0
    assert created["health"]["state"] == "up"
    _ok(client.post("/v1/trunks", json={"name": "backup", "proxy": "192.0.2.7"}), 201)
    declare_idle(state.reservations, ["carrier1"], "test")
    granted = state.reservations.reserve(
        ReservationRequest("call-1", "carrier1", max_concurrency=500, max_cps=0, lease_s=60)
    )
    assert granted.granted
    assert state.health is not None
    now_s = context.clock.now().timestamp()
    for _ in range(5):
        state.health.record("backup", True, now_s)
    listed = {t["name"]: t for t in _ok(client.get("/v1/trunks"))}
    assert sorted(listed) == ["backup", "carrier1"]
    assert listed["carrier1"]["lines_in_use"] == 1
    assert listed["carrier1"]["health"]["state"] == "up"
    suspended = listed["backup"]["health"]
    assert suspended["state"] == "suspended" and suspended["why"] == "5 trunk failures in a row"
    assert suspended["until"] == datetime.fromtimestamp(now_s + 30, UTC).isoformat("T", "seconds")
    one = _ok(client.get("/v1/trunks/carrier1"))
    assert one["lines_in_use"] == 1 and one["caller_ids"] == ["20220601"]
    missing = client.get("/v1/trunks/nosuch")
    assert missing.status_code == 404 and "no trunk named 'nosuch'" in missing.json()["detail"]


def test_a_bad_field_is_named_and_nothing_is_written(client: TestClient) -> None:
    refused = client.post("/v1/trunks", json={**CARRIER, "callee_prefix": "6#"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {"field": "body.callee_prefix", "detail": "callee prefix '6#' must be 1-20 digits"}
    ]
    several = client.post(
        "/v1/trunks",
        json={
            **CARRIER,
            "name": "a/b",
            "proxy": "8.8.8.8:50x",
            "caller_ids": ["2022", "20x"],
            "blind_prefixes": ["86\n1"],
            "active_hours": ["9-17"],
            "time_zone": "Mars/Base",
            "max_cps": -1,
        },
    ).json()
    assert _fields(several) == {
        "body.name", "body.proxy", "body.caller_ids", "body.blind_prefixes",
        "body.active_hours", "body.time_zone", "body.max_cps",
    }  # fmt: skip
    unknown = client.post("/v1/trunks", json={**CARRIER, "concurrency": 5}).json()
    assert _fields(unknown) == {"body.concurrency"}
    wrong_type = client.post("/v1/trunks", json={**CARRIER, "max_concurrency": "many"}).json()
    assert _fields(wrong_type) == {"body.max_concurrency"}
    assert _ok(client.get("/v1/trunks")) == []
    _ok(client.post("/v1/trunks", json=CARRIER), 201)
    again = client.post("/v1/trunks", json={**CARRIER, "proxy": "192.0.2.9"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    assert _ok(client.get("/v1/trunks/carrier1"))["proxy"] == "8.8.8.8:5060"


def test_a_trunk_is_changed_disabled_and_deleted(client: TestClient) -> None:
    _ok(client.post("/v1/trunks", json=CARRIER), 201)
    changed = _ok(client.patch("/v1/trunks/carrier1", json={"max_cps": 20, "enabled": False}))
    assert changed["max_cps"] == 20 and changed["enabled"] is False
    assert changed["max_concurrency"] == 500 and changed["callee_prefix"] == "6"
    refused = client.patch("/v1/trunks/carrier1", json={"max_cps": 30, "proxy": "a b"})
    assert refused.status_code == 422 and _fields(refused.json()) == {"body.proxy"}
    renamed = client.patch("/v1/trunks/carrier1", json={"name": "other"})
    assert renamed.status_code == 422 and _fields(renamed.json()) == {"body.name"}
    kept = _ok(client.get("/v1/trunks/carrier1"))
    assert kept["max_cps"] == 20 and kept["proxy"] == "8.8.8.8:5060"
    assert client.patch("/v1/trunks/nosuch", json={"max_cps": 1}).status_code == 404
    _ok(
        client.put(
            "/v1/trunks/carrier1/rates", files={"file": ("d.csv", b"prefix,rate\n86,0.03\n")}
        )
    )
    _ok(client.delete("/v1/trunks/carrier1"), 204)
    assert client.get("/v1/trunks/carrier1").status_code == 404
    assert client.get("/v1/trunks/carrier1/rates").status_code == 404
    assert client.delete("/v1/trunks/carrier1").status_code == 404


def _upload(client: TestClient, deck: bytes, **form: str) -> Any:
    return client.put(
        "/v1/trunks/carrier1/rates", files={"file": ("deck.csv", deck, "text/csv")}, data=form
    )


def test_a_rate_deck_is_all_or_nothing_naming_each_bad_row(client: TestClient) -> None:
    _ok(client.post("/v1/trunks", json=CARRIER), 201)
    stored = _ok(_upload(client, "\ufeffprefix,rate_per_min\n86,0.03\n86139,0.02\n".encode()))
    assert stored == {"trunk": "carrier1", "stored": 2}
    bad = b"prefix,rate_per_min\n86,0.05\n8613x,0.01\n861,abc\n"
    refused = _upload(client, bad)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "body.file", "detail": "row 3: prefix '8613x' is not 1-16 digits"},
        {"field": "body.file", "detail": "row 4: rate_per_min 'abc' is not a decimal number"},
    ]
    assert "nothing imported, the rates of carrier1 are unchanged" in refused.json()["detail"]
    rates = _ok(client.get("/v1/trunks/carrier1/rates"))
    assert rates["total"] == 2
    assert [(r["prefix"], r["rate_per_min"]) for r in rates["rates"]] == [
        ("86", "0.030000"),
        ("86139", "0.020000"),
    ]
    headless = _upload(client, b"86,0.05\n")
    assert headless.status_code == 422 and "is data, not a header" in headless.text
    assert _ok(_upload(client, b"86,0.05,6\n1,0.1\n", no_header="true"))["stored"] == 2
    page = _ok(client.get("/v1/trunks/carrier1/rates", params={"offset": 1, "limit": 1}))
    assert page["total"] == 2 and [r["prefix"] for r in page["rates"]] == ["86"]
    assert _ok(client.get("/v1/trunks/carrier1/rates"))["rates"][1]["billing_increment_s"] == 6
    not_text = _upload(client, b"prefix,rate\n86,0.0\xff\n")
    assert not_text.status_code == 422
    assert not_text.json()["detail"] == "deck.csv is not UTF-8 text; nothing imported"
    assert _ok(client.get("/v1/trunks/carrier1/rates"))["total"] == 2
    assert _upload(client, b"").status_code == 422
    nowhere = client.put("/v1/trunks/nosuch/rates", files={"file": ("d.csv", b"prefix,rate\n")})
    assert nowhere.status_code == 404


def test_the_route_is_explained_as_dialer_route_explains_it(
    client: TestClient, state: TrunkState, context: AppContext
) -> None:
    nothing = _ok(client.get("/v1/route", params={"number": "13912345678"}))
    assert nothing["routable"] is False
    assert nothing["reason"] == "there is no trunk at all (dialer trunks add)"
    _ok(client.post("/v1/trunks", json=CARRIER), 201)
    _ok(client.post("/v1/trunks", json={"name": "dear", "proxy": "192.0.2.7"}), 201)
    for name, rate in (("carrier1", "0.01"), ("dear", "0.05")):
        _ok(client.put(f"/v1/trunks/{name}/rates", files={"file": ("d.csv", f"86,{rate}\n")},
                       data={"no_header": "true"}))  # fmt: skip
    routed = _ok(client.get("/v1/route", params={"number": "13912345678"}))
    assert routed["number"] == "+8613912345678" and routed["routable"] is True
    assert [(c["rank"], c["trunk"]) for c in routed["candidates"]] == [(1, "carrier1"), (2, "dear")]
    first = routed["candidates"][0]
    assert first["dial_string"] == "sofia/gateway/carrier1/613912345678"
    assert first["caller_id"] == "20220601" and first["rate_per_min"] == "0.010000"
    beijing = _ok(client.get("/v1/route", params={"number": "+861065123456"}))
    assert beijing["region_zh"].startswith("北京")
    assert [c["trunk"] for c in beijing["candidates"]] == ["dear"]
    [blind] = beijing["exclusions"]
    assert blind["trunk"] == "carrier1" and blind["reason"] == "blind area"
    assert state.health is not None
    now_s = context.clock.now().timestamp()
    for _ in range(5):
        state.health.record("dear", True, now_s)
    down = _ok(client.get("/v1/route", params={"number": "+861065123456"}))
    assert down["routable"] is False and down["health_known"] is True
    until = datetime.fromtimestamp(now_s + 30, UTC).isoformat("T", "seconds")
    assert f"dear: down (suspended until {until}: 5 trunk failures in a row)" in down["reason"]
    assert down["health"] == [
        {"trunk": "dear", "state": "suspended", "until": until, "why": "5 trunk failures in a row"}
    ]


def test_a_number_or_campaign_the_route_cannot_read_is_named(client: TestClient) -> None:
    bad = client.get("/v1/route", params={"number": "12"})
    assert bad.status_code == 422 and _fields(bad.json()) == {"query.number"}
    assert "cannot route '12'" in bad.json()["detail"]
    unknown = client.get("/v1/route", params={"number": "13912345678", "campaign": "nosuch"})
    assert unknown.status_code == 422 and _fields(unknown.json()) == {"query.campaign"}
    assert client.get("/v1/route").status_code == 422
    nul = client.get("/v1/route", params={"number": "13912345678", "campaign": "a\x00"})
    assert nul.status_code == 422 and _fields(nul.json()) == {"query.campaign"}


def test_a_name_no_trunk_can_have_is_refused_before_any_query(client: TestClient) -> None:
    for path in ("/v1/trunks/a%00b", "/v1/trunks/-x/rates", "/v1/trunks/" + "x" * 64):
        refused = client.get(path)
        assert refused.status_code == 422 and _fields(refused.json()) == {"path.name"}, path


def test_without_redis_trunks_are_listed_with_their_live_figures_unknown(
    sessions: sessionmaker[Session],
) -> None:
    """Redis down: the trunks still list (``live`` false, no figures), the route counts every
    trunk up and says its health is unknown, as the CLI does after its warning."""
    gone: redis.Redis[str] = redis.Redis(
        port=free_port(), socket_connect_timeout=0.5, decode_responses=True
    )
    context = AppContext(load_settings(), sessions=sessions, redis_client=gone)
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        _ok(client.post("/v1/trunks", json=CARRIER), 201)
        [listed] = _ok(client.get("/v1/trunks"))
        assert listed["live"] is False
        assert (listed["lines_in_use"], listed["calls_last_second"], listed["health"]) == (
            None,
            None,
            None,
        )
        routed = _ok(client.get("/v1/route", params={"number": "13912345678"}))
        assert routed["health_known"] is False and routed["routable"] is False
        assert routed["exclusions"][0]["reason"] == "no rate"
