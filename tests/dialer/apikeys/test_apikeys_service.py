"""Issuing and checking API keys (`dialer.apikeys.service`) over the in-memory store: a token
works until revoked, a wrong secret or a malformed token never does, roles and agents are
checked when the key is made, and only a hash is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.apikeys.fakes import MemoryKeyStore
from dialer.apikeys.ports import Role
from dialer.apikeys.service import (
    ApiKeyError,
    authenticate,
    issue_key,
    revoke_key,
    set_key_webhook,
)
from tests.support.clock import FakeClock

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_token_authenticates_its_key_until_it_is_revoked() -> None:
    store, clock = MemoryKeyStore(), FakeClock(T0)
    issued = issue_key(store, clock, Role.SYSTEM, label="crm")
    assert authenticate(store, issued.token) == issued.key
    assert issued.key.created_at == T0 and issued.key.label == "crm"
    revoke_key(store, clock, issued.key.key_id)
    assert authenticate(store, issued.token) is None
    with pytest.raises(ApiKeyError, match="no API key 'nope'"):
        revoke_key(store, clock, "nope")


def test_only_the_hash_of_the_secret_is_kept() -> None:
    store = MemoryKeyStore()
    issued = issue_key(store, FakeClock(T0), Role.MANAGER)
    secret = issued.token.split("_", 2)[2]
    found = store.get(issued.key.key_id)
    assert found is not None and secret not in found[1] and len(found[1]) == 64


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret
        lambda t: t.replace("dk_", "xx_", 1),
        lambda t: t.split("_", 2)[0] + "_" + t.split("_", 2)[1],  # no secret
        lambda _t: "",
        lambda _t: "dk__",
        lambda t: "dk_ffffffffffff_" + t.split("_", 2)[2],  # another key's id
    ],
)
def test_a_wrong_or_malformed_token_authenticates_nothing(mangle: object) -> None:
    store = MemoryKeyStore()
    issued = issue_key(store, FakeClock(T0), Role.SYSTEM)
    assert callable(mangle)
    assert authenticate(store, mangle(issued.token)) is None


def test_an_agent_key_names_a_known_agent_and_other_roles_name_none() -> None:
    store, clock = MemoryKeyStore(), FakeClock(T0)
    known = {"1001@default"}.__contains__
    with pytest.raises(ApiKeyError, match="needs --agent"):
        issue_key(store, clock, Role.AGENT, agent_exists=known)
    with pytest.raises(ApiKeyError, match="no agent named '1002@default'"):
        issue_key(store, clock, Role.AGENT, agent="1002@default", agent_exists=known)
    with pytest.raises(ApiKeyError, match="a manager key acts as no agent"):
        issue_key(store, clock, Role.MANAGER, agent="1001@default", agent_exists=known)
    issued = issue_key(store, clock, Role.AGENT, agent="1001@default", agent_exists=known)
    assert issued.key.agent == "1001@default"
    assert store.all() == [issued.key]  # the refused ones wrote nothing


def test_a_system_key_gets_a_webhook_with_a_secret_made_and_shown_once() -> None:
    store, clock = MemoryKeyStore(), FakeClock()
    key = issue_key(store, clock, Role.SYSTEM).key
    made = set_key_webhook(store, key.key_id, "https://crm.example/hook")
    assert made is not None and made.startswith("whsec_") and len(made) == 49
    assert store.webhook(key.key_id) == ("https://crm.example/hook", made)
    assert set_key_webhook(
        store, key.key_id, "https://crm.example/v2", "whsec_mine-0123456789"
    ) is (
        None  # a secret given is not shown back
    )
    assert store.webhook(key.key_id) == ("https://crm.example/v2", "whsec_mine-0123456789")
    assert set_key_webhook(store, key.key_id, None) is None
    assert store.webhook(key.key_id) is None


@pytest.mark.parametrize(
    ("role", "url", "secret", "why"),
    [
        (Role.MANAGER, "https://crm.example/hook", None, "only system keys place calls"),
        (Role.SYSTEM, "ftp://crm.example/hook", None, "not an http:// or https:// URL"),
        (Role.SYSTEM, "https://crm.example/hook", "short", "16 to 200 characters"),
        (Role.SYSTEM, "https://crm.example/hook", "has a space in it!!", "without spaces"),
    ],
)
def test_a_webhook_is_refused_for_other_keys_and_bad_urls_or_secrets(
    role: Role, url: str, secret: str | None, why: str
) -> None:
    store, clock = MemoryKeyStore(), FakeClock()
    key = issue_key(store, clock, role, agent="1001" if role is Role.AGENT else "").key
    with pytest.raises(ApiKeyError, match=why):
        set_key_webhook(store, key.key_id, url, secret)
    assert store.webhook(key.key_id) is None
    with pytest.raises(ApiKeyError, match="no API key"):
        set_key_webhook(store, "000000000000", url)
    revoke_key(store, clock, key.key_id)
    if role is Role.SYSTEM:
        with pytest.raises(ApiKeyError, match="revoked"):
            set_key_webhook(store, key.key_id, "https://crm.example/hook")
