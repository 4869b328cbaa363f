"""Issuing, listing, revoking and checking API keys; shared by ``dialer keys`` and the HTTP
API.

A token is ``dk_<key_id>_<secret>``: ``key_id`` finds the key, the secret (32 random bytes,
URL-safe base64) is compared by its SHA-256 in constant time. Keys are random enough that a
plain hash cannot be reversed; nothing that can recover a secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from dialer.apikeys.ports import ApiKey, KeyStore, Role
from dialer.clock import Clock
from dialer.postcall.signing import check_secret, new_secret
from dialer.postcall.webhooks import check_url

__all__ = [
    "ApiKeyError",
    "IssuedKey",
    "authenticate",
    "issue_key",
    "list_keys",
    "revoke_key",
    "set_key_webhook",
]

TOKEN_PREFIX = "dk"
MAX_LABEL_CHARS = 200


class ApiKeyError(ValueError):
    """A key request that cannot be met; the message says why."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its token, which is shown this once and never again."""

    key: ApiKey
    token: str


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_key(
    store: KeyStore,
    clock: Clock,
    role: Role,
    *,
    agent: str = "",
    label: str = "",
    agent_exists: Callable[[str], bool] = lambda _name: True,
) -> IssuedKey:
    """A new key of ``role``. An agent key names a known ``agent``; other roles name none."""
    if role is Role.AGENT and not agent:
        raise ApiKeyError("an agent key needs --agent NAME: the agent it acts as")
    if role is not Role.AGENT and agent:
        raise ApiKeyError(f"a {role} key acts as no agent: drop --agent")
    if agent and not agent_exists(agent):
        raise ApiKeyError(f"no agent named {agent!r}: add it first (dialer agents add)")
    if len(label) > MAX_LABEL_CHARS:
        raise ApiKeyError(f"the label is over {MAX_LABEL_CHARS} characters")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(key_id, role, agent, label, clock.now())
    store.add(key, _sha256(secret))
    return IssuedKey(key, f"{TOKEN_PREFIX}_{key_id}_{secret}")


def authenticate(store: KeyStore, token: str) -> ApiKey | None:
    """The valid (not revoked) key ``token`` is, or None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not key_id or not secret:
        return None
    found = store.get(key_id)
    if found is None:
        return None
    key, secret_sha256 = found
    if not secrets.compare_digest(_sha256(secret), secret_sha256):
        return None
    return key if key.revoked_at is None else None


def list_keys(store: KeyStore) -> list[ApiKey]:
    return store.all()


def revoke_key(store: KeyStore, clock: Clock, key_id: str) -> None:
    if not store.revoke(key_id, clock.now()):
        raise ApiKeyError(f"no API key {key_id!r} (dialer keys list shows them)")


def set_key_webhook(
    store: KeyStore, key_id: str, url: str | None, secret: str | None = None
) -> str | None:
    """Send the events of the calls a system key places to ``url``, signed with ``secret``
    (a new one when not given, returned so that it is shown once); ``url`` None removes the
    webhook. Only a valid system key has one."""
    found = store.get(key_id)
    if found is None:
        raise ApiKeyError(f"no API key {key_id!r} (dialer keys list shows them)")
    key = found[0]
    if key.role is not Role.SYSTEM:
        raise ApiKeyError(f"key {key_id} is a {key.role} key: only system keys place calls")
    if key.revoked_at is not None:
        raise ApiKeyError(f"key {key_id} is revoked")
    if url is None:
        store.set_webhook(key_id, None, None)
        return None
    try:
        check_url(url)
        given = check_secret(secret) if secret is not None else None
    except ValueError as exc:
        raise ApiKeyError(str(exc)) from None
    chosen = given or new_secret()
    store.set_webhook(key_id, url, chosen)
    return None if given else chosen
