"""Wiring of the lead import: `ImportDeps` on the database. The CLI (``dialer leads import``,
``dialer demo``), the ``dialer.import_leads`` task (through the worker's root), the tests and
the benchmark build an import's dependencies here."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from campaigns.importer.adapters import SqlLeadStore
from campaigns.importer.service import ImportDeps
from dialer.clock import Clock

__all__ = ["import_deps"]


def import_deps(sessions: sessionmaker[Session], clock: Clock) -> ImportDeps:
    """Leads, lists and DNC entries in the database of ``sessions``; DNC entries in force
    and the list's end dated by ``clock``."""
    return ImportDeps(SqlLeadStore(sessions), clock)
