"""Wiring of the post-call work: the webhook deliveries of ended attempts, on the database
and an HTTP client; dispositions and the call log, on the database."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.adapters import SqlKeyStore
from dialer.clock import Clock
from dialer.config import Settings
from dialer.postcall.adapters import (
    HttpxSender,
    SqlCallLog,
    SqlDeliveryStore,
    SqlDispositionStore,
    campaign_target,
)
from dialer.postcall.http import WebhookApiDeps
from dialer.postcall.ports import CallLog, DeliveryStore, DispositionStore, WebhookSender
from dialer.postcall.service import PostCallDeps
from dialer.postcall.webhooks import MAX_TRIES
from dialer.recordings.wiring import public_url, recording_deps

__all__ = [
    "call_log",
    "delivery_store",
    "disposition_store",
    "post_call_deps",
    "webhook_api_deps",
]


def post_call_deps(
    sessions: sessionmaker[Session],
    clock: Clock,
    sender: WebhookSender | None = None,
    max_tries: int = MAX_TRIES,
    settings: Settings | None = None,
) -> PostCallDeps:
    """Deliveries recorded in the database, dated by ``clock``, sent by ``sender`` (a pooled
    HTTP client unless given), given up after ``max_tries`` tries; with ``settings``, the
    recordings whose URLs webhooks carry."""
    return PostCallDeps(
        SqlDeliveryStore(sessions),
        sender if sender is not None else HttpxSender(),
        clock,
        max_tries,
        recordings=recording_deps(settings, clock) if settings is not None else None,
        public_url=public_url(settings) if settings is not None else "",
        recording_wait_s=settings.recording_webhook_wait_s if settings is not None else 300.0,
    )


def delivery_store(sessions: sessionmaker[Session]) -> DeliveryStore:
    """The webhook deliveries and their tries, in the database."""
    return SqlDeliveryStore(sessions)


def disposition_store(sessions: sessionmaker[Session]) -> DispositionStore:
    """Dispositions stored with their attempt and lead, one transaction each."""
    return SqlDispositionStore(sessions)


def call_log(sessions: sessionmaker[Session]) -> CallLog:
    """The calls made, read from the database."""
    return SqlCallLog(sessions)


def webhook_api_deps(
    sessions: sessionmaker[Session], clock: Clock, sender: WebhookSender | None = None
) -> WebhookApiDeps:
    """The webhook routes' dependencies: the deliveries, keys and campaigns in the
    database; test events sent by ``sender`` (a pooled HTTP client unless given)."""
    return WebhookApiDeps(
        post_call_deps(sessions, clock, sender),
        SqlKeyStore(sessions),
        partial(campaign_target, sessions),
    )
