"""The seam of the API keys context: where keys are kept (`KeyStore`) and the plain data that
crosses it.

A key is shown once, when it is issued (``dk_<key_id>_<secret>``); only the SHA-256 of its
secret is kept. `dialer.apikeys.fakes.MemoryKeyStore` is the in-memory store,
`dialer.apikeys.adapters.SqlKeyStore` the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    """What a key may do: a manager manages campaigns, leads, trunks and DNC; an agent acts
    only on itself; a system places calls and reads their results."""

    MANAGER = "manager"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as kept: ``key_id`` is public (it is in the token); ``agent`` is the agent an
    agent key acts as ("" for other roles); ``revoked_at`` None while the key is valid."""

    key_id: str
    role: Role
    agent: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


class KeyStore(Protocol):
    """Keys with the SHA-256 (hex) of their secrets."""

    def add(self, key: ApiKey, secret_sha256: str) -> None:
        """Keep a new key; ``key.key_id`` is not in the store yet."""
        ...

    def get(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key and its secret's SHA-256, or None."""
        ...

    def all(self) -> list[ApiKey]:
        """Every key, oldest first, revoked ones included."""
        ...

    def revoke(self, key_id: str, at: datetime) -> bool:
        """Mark the key revoked at ``at``; False when there is no such key."""
        ...

    def set_webhook(self, key_id: str, url: str | None, secret: str | None) -> bool:
        """Set (or, with None, remove) the key's webhook URL and signing secret; False when
        there is no such key."""
        ...

    def webhook(self, key_id: str) -> tuple[str, str] | None:
        """The key's webhook URL and secret; None when it has none (or there is no key)."""
        ...
