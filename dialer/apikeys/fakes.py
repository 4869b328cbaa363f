"""`MemoryKeyStore`: `dialer.apikeys.ports.KeyStore` in memory, for unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dialer.apikeys.ports import ApiKey


class MemoryKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, tuple[ApiKey, str]] = {}
        self._webhooks: dict[str, tuple[str, str]] = {}

    def add(self, key: ApiKey, secret_sha256: str) -> None:
        if key.key_id in self._keys:
            raise ValueError(f"key {key.key_id} exists")
        self._keys[key.key_id] = (key, secret_sha256)

    def get(self, key_id: str) -> tuple[ApiKey, str] | None:
        return self._keys.get(key_id)

    def all(self) -> list[ApiKey]:
        return sorted((k for k, _ in self._keys.values()), key=lambda k: k.created_at)

    def revoke(self, key_id: str, at: datetime) -> bool:
        found = self._keys.get(key_id)
        if found is None:
            return False
        key, digest = found
        if key.revoked_at is None:
            self._keys[key_id] = (replace(key, revoked_at=at), digest)
        return True

    def set_webhook(self, key_id: str, url: str | None, secret: str | None) -> bool:
        if key_id not in self._keys:
            return False
        if url is None or secret is None:
            self._webhooks.pop(key_id, None)
        else:
            self._webhooks[key_id] = (url, secret)
        return True

    def webhook(self, key_id: str) -> tuple[str, str] | None:
        return self._webhooks.get(key_id)
