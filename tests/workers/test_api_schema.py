"""The served OpenAPI document holds: schemathesis generates requests for every ``/v1``
operation (bounded examples), sent with a key of a role the operation admits; no response is
a 5xx, and each matches the status codes, content type and schema the document gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
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
from dialer.config import load_settings
from dialer.listener.fakes import MemoryTrunks
from tests.support.api import bearer, issue_test_keys
from tests.support.net import unreachable_nodes
from tests.workers.test_api_auth import ROUTE_ROLES
from workers.api import create_app
from workers.context import AppContext

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
def api_schema(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # no switch answers: what needs one must refuse cleanly, never fail with a 5xx crash
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", unreachable_nodes())
    context = AppContext(load_settings(), sessions=sessions)
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    with TestClient(app):
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


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
