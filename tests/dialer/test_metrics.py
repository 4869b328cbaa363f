"""The Prometheus metrics (docs/metrics.md): the listener counts each recorded end by
outcome and cause, its abandons, its connections and the desk events it published; the API
serves them all at /metrics in Prometheus's text format."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.ports import Role
from dialer.config import load_settings
from dialer.desk.fakes import MemoryDeskBus
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from dialer.metrics import serve_metrics
from tests.support.api import bearer, issue_test_keys
from tests.support.net import free_port
from tests.support.transcripts import transcript_events
from workers.api import create_app
from workers.context import AppContext

T_CALL = "c6019a7b-6024-4b1f-864d-c6cb2c92389b"


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_listener_counts_ends_by_outcome_its_connections_and_desk_events() -> None:
    connected = {"campaign": "7", "outcome": "connected", "cause": "NORMAL_CLEARING"}
    before = (
        _value("dialer_call_outcomes_total", **connected),
        _value("dialer_esl_connects_total", node="metrics-fs"),
        _value("dialer_desk_events_published_total", kind="call"),
        _value("dialer_abandons_total", campaign="7"),
    )
    listener = NodeListener("metrics-fs", MemoryLiveState(), MemoryAttempts(),
                            MemoryTrunks({T_CALL: "carrier_a"}), desk=MemoryDeskBus())  # fmt: skip
    conn = FakeEslConnection("metrics-fs", LISTENER_SUBSCRIPTION, listener.on_event,
                             lambda c: '{"row_count": 0}\n')  # fmt: skip
    listener.attach(conn)
    listener.on_connect()
    for event in transcript_events("t_origination_uuid_export_vars"):
        conn.emit(event)
    listener.drain()
    after = (
        _value("dialer_call_outcomes_total", **connected),
        _value("dialer_esl_connects_total", node="metrics-fs"),
        _value("dialer_desk_events_published_total", kind="call"),
        _value("dialer_abandons_total", campaign="7"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 0]


def test_the_api_serves_every_metric_in_prometheus_text_format(
    sessions: sessionmaker[Session],
) -> None:
    app = create_app(AppContext(load_settings(), sessions=sessions), notify=None,
                     trunks=MemoryTrunks())  # fmt: skip
    keys = issue_test_keys(sessions)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401  # behind a key as every route
        assert client.get("/metrics", headers=bearer(keys[Role.AGENT])).status_code == 403
        got = client.get("/metrics", headers=bearer(keys[Role.MANAGER]))
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/plain; version=")
    for name in ("dialer_originates_total", "dialer_call_outcomes_total",
                 "dialer_abandons_total", "dialer_dial_level", "dialer_tick_seconds",
                 "dialer_esl_connects_total", "dialer_trunk_lines_in_use",
                 "dialer_import_rows_total", "dialer_desk_sockets"):  # fmt: skip
        assert f"# TYPE {name} " in got.text, name


def test_a_process_serves_its_metrics_on_its_own_port_and_port_0_serves_none() -> None:
    assert serve_metrics(0) is False
    port = free_port()
    assert serve_metrics(port, "127.0.0.1", "test") is True
    got = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert got.status_code == 200 and "# TYPE dialer_originates_total counter" in got.text
