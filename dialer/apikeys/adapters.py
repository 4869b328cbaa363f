"""`SqlKeyStore`: API keys in the database (table of `dialer.apikeys.orm`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.orm import ApiKeyRow
from dialer.apikeys.ports import ApiKey, Role
from dialer.db.base import transaction


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.key_id, Role(row.role), row.agent, row.label, row.created_at, row.revoked_at)


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
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
            return (_key(row), row.secret_sha256) if row is not None else None

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
