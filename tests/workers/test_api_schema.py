"""The served OpenAPI document holds: schemathesis generates requests for every ``/v1``
operation (bounded examples), sent with a key of a role the operation admits; no response is
a 5xx (a switch, the simulator, answers over TCP), and each matches the status codes,
content type and schema the document gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.ports import Role
from dialer.config import FsNode, load_settings
from dialer.listener.fakes import MemoryTrunks
from dialer.sim.simulator import SimulatorServer
from tests.support.api import bearer, issue_test_keys
from tests.workers.test_api_auth import ROUTE_ROLES
from workers.api import create_app
from workers.context import AppContext

LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_PREFERRED = (Role.MANAGER, Role.SYSTEM, Role.AGENT)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[Role, str]:
    return issue_test_keys(sessions)


@pytest.fixture
def api_schema(sessions: sessionmaker[Session], redis_client: redis.Redis[str]) -> Iterator[Any]:
    # a switch answers (the lab simulator over TCP): any 5xx is then a defect
    server = SimulatorServer(LAB)
    host, port = server.start()
    node = FsNode(name="fs1", host=host, port=port)
    settings = load_settings(freeswitch_nodes=[node])
    context = AppContext(settings, sessions=sessions, redis_client=redis_client)
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    try:
        with TestClient(app):
            yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        server.stop()


def test_every_operation_keeps_to_its_document(api_schema: Any, tokens: dict[Role, str]) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations
    for operation in operations:
        _check(operation, tokens)


def _check(operation: Any, tokens: dict[Role, str]) -> None:
    """Examples of one operation, sent with a key of the first role it admits."""
    roles = ROUTE_ROLES[(operation.method.upper(), operation.path)]
    headers = bearer(tokens[next(r for r in _PREFERRED if r in roles)])

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def keeps_to_its_document(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    keeps_to_its_document()
