"""`SqlKeyStore`: API keys in the database (table of `dialer.apikeys.orm`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.orm import ApiKeyRow
from dialer.apikeys.ports import ApiKey, Role
from dialer.db.base import transaction


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.key_id, Role(row.role), row.agent, row.label, row.created_at, row.revoked_at)


# Every API request reads its key: one Core statement built once, read on the session's
# connection (the ORM's identity map and row objects cost more CPU than the query).
_GET_KEY = select(
    ApiKeyRow.key_id,
    ApiKeyRow.role,
    ApiKeyRow.agent,
    ApiKeyRow.label,
    ApiKeyRow.created_at,
    ApiKeyRow.revoked_at,
    ApiKeyRow.secret_sha256,
).where(ApiKeyRow.key_id == bindparam("key_id"))


class SqlKeyStore:
    """`dialer.apikeys.ports.KeyStore` over SQLAlchemy; each call is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, key: ApiKey, secret_sha256: str) -> None:
        with transaction(self._sessions) as session:
            session.add(
                ApiKeyRow(
                    key_id=key.key_id, secret_sha256=secret_sha256, role=str(key.role),
                    agent=key.agent, label=key.label, created_at=key.created_at,
                    revoked_at=key.revoked_at,
                )
            )  # fmt: skip

    def get(self, key_id: str) -> tuple[ApiKey, str] | None:
        with self._sessions() as session:
            row = session.connection().execute(_GET_KEY, {"key_id": key_id}).first()
        if row is None:
            return None
        key = ApiKey(
            row.key_id, Role(row.role), row.agent, row.label, row.created_at, row.revoked_at
        )
        return key, row.secret_sha256

    def all(self) -> list[ApiKey]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [_key(row) for row in rows]

    def revoke(self, key_id: str, at: datetime) -> bool:
        with transaction(self._sessions) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = at
            return True

    def set_webhook(self, key_id: str, url: str | None, secret: str | None) -> bool:
        with transaction(self._sessions) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
            if row is None:
                return False
            both = url is not None and secret is not None
            row.webhook_url, row.webhook_secret = (url, secret) if both else (None, None)
            return True

    def webhook(self, key_id: str) -> tuple[str, str] | None:
        with self._sessions() as session:
            row = session.execute(
                select(ApiKeyRow.webhook_url, ApiKeyRow.webhook_secret).where(
                    ApiKeyRow.key_id == key_id
                )
            ).first()
            if row is None or row.webhook_url is None or row.webhook_secret is None:
                return None
            return row.webhook_url, row.webhook_secret
