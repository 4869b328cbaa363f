"""Wiring of the API keys context: the database's key store."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.adapters import SqlKeyStore


def sql_key_store(sessions: sessionmaker[Session]) -> SqlKeyStore:
    return SqlKeyStore(sessions)
