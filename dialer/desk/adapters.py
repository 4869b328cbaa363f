"""The real desk bus (Redis pub/sub) and lead cards (the database).

`RedisDeskBus` publishes each event on channel ``<prefix>:<agent>``; in each API process
one thread holds one pattern subscription (``<prefix>:*``) and hands the events to that
process's subscribers, so any number of listeners and API processes share the bus, with one
Redis connection per API process whatever the number of open desks. The thread starts with
the first subscription, ends within a second of the last one closing, and subscribes again
after a Redis error (events published meanwhile are lost, as with any pub/sub).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Campaign, Lead
from dialer.desk.fanout import Subscribers
from dialer.desk.ports import DeskEvent, DeskFeed, EarlierAttempt, LeadCard

__all__ = ["RedisDeskBus", "SqlLeadCards"]

log = logging.getLogger(__name__)
_POLL_S = 1.0
_RETRY_S = 1.0
_SUBSCRIBE_WAIT_S = 5.0


class RedisDeskBus:
    def __init__(self, client: redis.Redis[Any], prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._subscribers = Subscribers()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()
        self._stopping = threading.Event()

    def publish(self, event: DeskEvent) -> None:
        self._client.publish(f"{self._prefix}:{event.agent}", json.dumps(event.as_json()))

    async def subscribe(self, agent: str) -> DeskFeed:
        from starlette.concurrency import run_in_threadpool

        feed = self._subscribers.add(agent)
        await run_in_threadpool(self._ensure_receiving)
        return feed

    def close(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=_POLL_S * 3)

    def _ensure_receiving(self) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._receive, name="desk-bus", daemon=True)
                self._thread.start()
        if not self._subscribed.wait(_SUBSCRIBE_WAIT_S):
            raise redis.ConnectionError("the desk bus could not subscribe to Redis")

    def _idle(self) -> bool:
        """True (and the thread is forgotten) when no feed is open or the bus is closed."""
        with self._started:
            if self._subscribers.count() and not self._stopping.is_set():
                return False
            self._thread = None
            self._subscribed.clear()
            return True

    def _receive(self) -> None:
        while not self._idle():
            try:
                self._receive_once()
            except (redis.RedisError, OSError, ValueError) as exc:
                self._subscribed.clear()
                log.warning("desk bus: %s; subscribing again", exc)
                time.sleep(_RETRY_S)

    def _receive_once(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.psubscribe(f"{self._prefix}:*")
            while self._subscribers.count() and not self._stopping.is_set():
                message = pubsub.get_message(timeout=_POLL_S)
                # the subscription is confirmed by the first reply read after it
                self._subscribed.set()
                if message is None or message.get("type") != "pmessage":
                    continue
                try:
                    event = DeskEvent.from_json(json.loads(message["data"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("desk bus: not a desk event: %r", message["data"])
                    continue
                self._subscribers.deliver(event)
        finally:
            pubsub.close()


class SqlLeadCards:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def by_attempt(self, attempt_id: int) -> LeadCard | None:
        with self._sessions() as session:
            attempt = session.get(CallAttempt, attempt_id)
            return None if attempt is None else _card(session, attempt)

    def by_call(self, call_uuid: str) -> LeadCard | None:
        with self._sessions() as session:
            attempt = session.scalar(select(CallAttempt).where(CallAttempt.call_uuid == call_uuid))
            return None if attempt is None else _card(session, attempt)


def _card(session: Session, attempt: CallAttempt) -> LeadCard | None:
    lead = session.get(Lead, attempt.lead_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    if lead is None or campaign is None:
        return None
    others = session.scalars(
        select(CallAttempt)
        .where(CallAttempt.lead_id == lead.id, CallAttempt.id != attempt.id)
        .order_by(CallAttempt.originated_at.desc(), CallAttempt.id.desc())
    ).all()
    fields = dict(lead.custom_fields or {})
    return LeadCard(
        call_uuid=attempt.call_uuid, attempt_id=attempt.id, lead_id=lead.id,
        campaign=campaign.name, number=lead.phone_e164, name=str(fields.get("name", "")),
        custom_fields=fields, attempts=max(lead.attempts, attempt.attempt_no),
        agent=attempt.agent or "", disposition=attempt.disposition,
        earlier=tuple(
            EarlierAttempt(a.attempt_no, a.originated_at, a.outcome, a.disposition)
            for a in others
        ),
    )  # fmt: skip
