"""Composition root of the command-line process: settings -> engine, sessions, Redis.

Commands call :func:`app_context` once; the database is brought to the current schema on
first use, so the embedded default needs no separate set-up step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import Settings, load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


@cache
def app_context() -> AppContext:
    settings = load_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    return AppContext(settings, engine, make_session_factory(engine))
