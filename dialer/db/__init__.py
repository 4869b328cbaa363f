"""The database: declarative base and engine/session factories (`base`), migrations
(`migrate`, `migrations/`).
"""

__all__: list[str] = []
