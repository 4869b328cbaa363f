"""The `KeyStore` contract (`dialer.apikeys.ports`): `MemoryKeyStore` and `SqlKeyStore` on
SQLite and PostgreSQL. Keys read back with their hash, listed oldest first, revoked once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.fakes import MemoryKeyStore
from dialer.apikeys.ports import ApiKey, KeyStore, Role
from tests.conftest import Backend

PORT = "api_key_store"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(backend: Backend) -> KeyStore:
    if backend.is_fake:
        return MemoryKeyStore()
    return SqlKeyStore(backend.sessions())


def test_a_key_is_read_back_with_its_secret_hash(store: KeyStore) -> None:
    key = ApiKey("a1b2c3", Role.AGENT, "1001@default", "desk", T0)
    store.add(key, "f" * 64)
    assert store.get("a1b2c3") == (key, "f" * 64)
    assert store.get("000000") is None


def test_keys_are_listed_oldest_first_and_revoked_once(store: KeyStore) -> None:
    store.add(ApiKey("k2", Role.SYSTEM, "", "crm", T0 + timedelta(minutes=1)), "2" * 64)
    store.add(ApiKey("k1", Role.MANAGER, "", "", T0), "1" * 64)
    assert [k.key_id for k in store.all()] == ["k1", "k2"]
    later = T0 + timedelta(hours=1)
    assert store.revoke("k2", later) is True
    assert store.revoke("k2", later + timedelta(hours=1)) is True  # already revoked: kept
    assert store.revoke("nope", later) is False
    found = store.get("k2")
    assert found is not None and found[0].revoked_at == later
    assert [k.revoked_at for k in store.all()] == [None, later]


def test_a_keys_webhook_is_set_read_back_and_removed(store: KeyStore) -> None:
    store.add(ApiKey("k1", Role.SYSTEM, "", "crm", T0), "1" * 64)
    store.add(ApiKey("k2", Role.SYSTEM, "", "erp", T0), "2" * 64)
    assert store.webhook("k1") is None
    assert store.set_webhook("k1", "https://crm.example/hook", "whsec_one-0000000000") is True
    assert store.webhook("k1") == ("https://crm.example/hook", "whsec_one-0000000000")
    assert store.webhook("k2") is None
    assert store.set_webhook("k1", "https://crm.example/v2", "whsec_two-0000000000") is True
    assert store.webhook("k1") == ("https://crm.example/v2", "whsec_two-0000000000")
    assert store.set_webhook("k1", None, None) is True
    assert store.webhook("k1") is None
    assert store.set_webhook("nope", "https://x.example/", "whsec_three-00000000") is False
    assert store.webhook("nope") is None
    found = store.get("k1")
    assert found is not None and found[0] == ApiKey("k1", Role.SYSTEM, "", "crm", T0)
