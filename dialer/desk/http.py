"""The agent's desk over HTTP: its events on a WebSocket (screen pop) and its dispositions.

``WS /v1/agents/{name}/events``: the key as ``Authorization: Bearer`` or the console's
session cookie; an agent key only on itself, a manager key on any agent. Each event of the
agent published on the desk bus after the socket opened is sent as one JSON text message,
after the call the agent is on when it opens (from the listener's live state), if any;
a ``call`` event carries the lead's card (``lead``, null when the call is not a dialer
lead's). A refused key closes the socket as soon as it opens (code 1008).

``POST /v1/agents/{name}/dispositions``: the disposition of a call put through to the agent,
through `dialer.postcall.service.set_disposition` (what ``dialer calls disposition`` calls);
an agent key only for a call the listener recorded as its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dialer.apikeys.http import KeyAuth, ensure_self, token_of
from dialer.apikeys.ports import ApiKey, KeyStore, Role
from dialer.apikeys.service import authenticate
from dialer.calls.machine import CallState
from dialer.clock import Clock
from dialer.desk.ports import DeskBus, DeskEvent, DeskEventKind, LeadCards
from dialer.desk.service import card_json, current_call
from dialer.http_problems import Problem
from dialer.metrics import DESK_SOCKETS
from dialer.postcall.dispositions import Disposition, DispositionError, DispositionRequest
from dialer.postcall.ports import DispositionStore
from dialer.postcall.service import set_disposition

__all__ = ["DeskApi", "desk_router"]

POLICY_VIOLATION = 1008
# how often a quiet socket checks that its client is still there
_IDLE_S = 15.0


@dataclass(frozen=True, slots=True)
class DeskApi:
    """The bus (built on first use), the calls up on every node (the listener's live
    state), the lead cards, the disposition store, the keys, the clock and the operation's
    time zone (a callback time without an offset is read in it)."""

    bus: Callable[[], DeskBus]
    calls: Callable[[], list[CallState]]
    cards: LeadCards
    dispositions: DispositionStore
    keys: KeyStore
    clock: Clock
    zone: str


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_uuid: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    disposition: Disposition = Field(
        description="sale, completed (not interested), callback, dnc, wrong_number"
    )
    callback_at: datetime | None = Field(
        default=None, description="with callback: when (no offset: DIALER_TIMEZONE)"
    )
    note: str = Field(default="", max_length=2000)


class DispositionOut(BaseModel):
    call_uuid: str
    disposition: Disposition
    lead_status: str
    next_attempt_at: datetime | None
    added_to_dnc: bool


async def _message(api: DeskApi, event: DeskEvent) -> dict[str, Any]:
    message: dict[str, Any] = {"type": event.kind.value, **event.as_json()}
    if event.kind is DeskEventKind.CALL:
        card = None
        if event.attempt_id is not None:
            card = await run_in_threadpool(api.cards.by_attempt, event.attempt_id)
        elif event.call_uuid:
            card = await run_in_threadpool(api.cards.by_call, event.call_uuid)
        message["lead"] = None if card is None else card_json(card)
    return message


def _current(api: DeskApi, agent: str) -> DeskEvent | None:
    try:
        return current_call(api.calls(), agent)
    except (redis.RedisError, OSError):  # no live state: the next call pops up all the same
        return None


def desk_router(auth: KeyAuth, api: DeskApi) -> APIRouter:
    router = APIRouter(tags=["agents"])
    manager_or_agent = auth.require(Role.MANAGER, Role.AGENT)

    @router.post("/agents/{name}/dispositions", response_model=DispositionOut)
    def dispose(name: str, body: DispositionIn, key: ApiKey = Depends(manager_or_agent)) -> Any:
        """Set the disposition of a call put through to the agent and move its lead (as
        ``dialer calls disposition``); an agent key only for its own calls."""
        ensure_self(key, name)
        card = api.cards.by_call(body.call_uuid)
        if card is None or (key.role is Role.AGENT and card.agent != name):
            raise Problem(404, f"no call {body.call_uuid} of agent {name}")
        at = body.callback_at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(api.zone))
        request = DispositionRequest(body.call_uuid, body.disposition, at, body.note)
        try:
            change = set_disposition(api.dispositions, request, api.clock.now())
        except DispositionError as exc:
            raise Problem(409, str(exc)) from None
        return DispositionOut(
            call_uuid=body.call_uuid, disposition=body.disposition,
            lead_status=str(change.status), next_attempt_at=change.next_attempt_at,
            added_to_dnc=change.add_dnc,
        )  # fmt: skip

    @router.websocket("/agents/{name}/events")
    async def events(socket: WebSocket, name: str) -> None:
        token = token_of(socket.headers.get("authorization"), socket.cookies)
        key = None if token is None else await run_in_threadpool(authenticate, api.keys, token)
        allowed = key is not None and (
            key.role is Role.MANAGER or (key.role is Role.AGENT and key.agent == name)
        )
        if not allowed:
            # accepted, then closed: a browser sees the code (a refused handshake is 1006)
            await socket.accept()
            await socket.close(code=POLICY_VIOLATION, reason="not this agent's key")
            return
        feed = await api.bus().subscribe(name)
        DESK_SOCKETS.inc()
        try:
            await socket.accept()
            now_on = await run_in_threadpool(_current, api, name)
            if now_on is not None:
                await socket.send_json(await _message(api, now_on))
            while True:
                event = await feed.next_event(_IDLE_S)
                if event is None:
                    await socket.send_json({"type": "idle"})
                    continue
                await socket.send_json(await _message(api, event))
        except (WebSocketDisconnect, RuntimeError):  # the client went away
            pass
        finally:
            DESK_SOCKETS.dec()
            feed.close()

    return router
