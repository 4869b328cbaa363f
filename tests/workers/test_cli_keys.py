"""``dialer keys create|list|revoke`` against a migrated SQLite database: a token is printed
once and works against the API until it is revoked; an agent key names a known agent."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import workers.cli.keys as keys_cli
from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentRecord
from dialer.config import load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.listener.fakes import MemoryTrunks
from tests.support.api import bearer
from workers.api import create_app
from workers.cli import app
from workers.context import AppContext


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    sessions: sessionmaker[Session] = make_session_factory(make_engine(url))
    ctx = AppContext(load_settings(database_url=url), sessions=sessions)
    monkeypatch.setattr(keys_cli, "app_context", lambda: ctx)
    return ctx


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    return result.exit_code, result.output


def test_a_created_key_works_until_it_is_revoked(context: AppContext) -> None:
    code, out = _run("keys", "create", "--role", "system", "--label", "crm-prod")
    assert code == 0, out
    token = out.splitlines()[-1]
    key_id = token.split("_")[1]
    api = TestClient(create_app(context, notify=None, trunks=MemoryTrunks()))
    assert api.get("/v1/me", headers=bearer(token)).json()["role"] == "system"
    code, out = _run("keys", "list")
    assert key_id in out and "crm-prod" in out and token.split("_")[2] not in out
    assert _run("keys", "revoke", key_id)[0] == 0
    assert api.get("/v1/me", headers=bearer(token)).status_code == 401
    code, out = _run("keys", "revoke", "nope")
    assert code == 1 and "no API key 'nope'" in out


def test_an_agent_key_must_name_a_known_agent(context: AppContext) -> None:
    code, out = _run("keys", "create", "--role", "agent", "--agent", "1001@default")
    assert code == 1 and "no agent named '1001@default'" in out
    SqlAgentStore(context.sessions).put(AgentRecord("1001@default", "user/1001"))
    code, out = _run("keys", "create", "--role", "agent", "--agent", "1001@default")
    assert code == 0, out
    code, out = _run("keys", "create", "--role", "boss")
    assert code == 2 and "boss" in out


def test_a_system_keys_webhook_is_set_with_a_secret_printed_once_and_removed(
    context: AppContext,
) -> None:
    from dialer.apikeys.adapters import SqlKeyStore

    code, out = _run("keys", "create", "--role", "system", "--label", "crm")
    key_id = out.splitlines()[-1].split("_")[1]
    code, out = _run("keys", "webhook", key_id, "--url", "https://crm.example/events")
    assert code == 0, out
    secret = out.splitlines()[-1]
    assert secret.startswith("whsec_") and "shown this once" in out
    store = SqlKeyStore(context.sessions)
    assert store.webhook(key_id) == ("https://crm.example/events", secret)
    code, out = _run("keys", "list")
    assert "https://crm.example/events" in out and secret not in out
    code, out = _run(
        "keys", "webhook", key_id, "--url", "https://crm.example/v2", "--secret",
        "whsec_mine-0123456789",
    )  # fmt: skip
    assert code == 0 and "whsec_" not in out  # a secret given is not printed back
    assert store.webhook(key_id) == ("https://crm.example/v2", "whsec_mine-0123456789")
    assert _run("keys", "webhook", key_id, "--remove")[0] == 0
    assert store.webhook(key_id) is None


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--url", "ftp://x"), "not an http:// or https:// URL"),
        ((), "give --url URL"),
        (("--url", "https://x.example", "--remove"), "give --url URL"),
        (("--url", "https://x.example", "--secret", "short"), "16 to 200 characters"),
    ],
)
def test_a_key_webhook_that_cannot_be_set_is_refused(
    context: AppContext, args: tuple[str, ...], why: str
) -> None:
    code, out = _run("keys", "create", "--role", "system")
    key_id = out.splitlines()[-1].split("_")[1]
    code, out = _run("keys", "webhook", key_id, *args)
    assert code == 1 and why in out, out
    code, out = _run("keys", "create", "--role", "manager")
    manager_id = out.splitlines()[-1].split("_")[1]
    code, out = _run("keys", "webhook", manager_id, "--url", "https://x.example")
    assert code == 1 and "only system keys place calls" in out
