"""Attempt rows as the pacer writes them before it originates, for tests that drive the
switch themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt
from dialer.db.base import transaction


def open_attempt(
    sessions: sessionmaker[Session], campaign_id: int, lead_id: int, call_uuid: str
) -> int:
    """A new attempt of ``lead_id`` on node fs1 for ``call_uuid``, not yet ended; its id."""
    with transaction(sessions) as session:
        row = CallAttempt(
            call_uuid=call_uuid, lead_id=lead_id, campaign_id=campaign_id, node="fs1",
            dialed_number="+8613800000000", originated_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id
