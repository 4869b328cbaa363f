"""``/v1/calls`` and ``/v1/callbacks``: the business systems' entry point (system keys; a
manager may read any call, a system key the calls it placed).

Thin: each handler checks the request's shape (pydantic, unknown fields refused) and calls
`dialer.apicalls.service`; a `CallRefused` becomes a problem document naming the field.
A retried request with the same ``Idempotency-Key`` answers 200 with the first request's
call (a new call is 201).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from dialer.apicalls.callbacks import schedule_callback
from dialer.apicalls.ports import ApiCall, ApiCallStore
from dialer.apicalls.service import (
    MAX_EXT_BYTES,
    CallbackRequest,
    CallDeps,
    CallRefused,
    CallRequest,
    get_call,
    place_call,
)
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.http_problems import Problem

__all__ = ["calls_router"]

_NUMBER = Field(
    min_length=1, max_length=40, description="the customer's number", examples=["+8613800138000"]
)
_TRUNKS = Field(
    default=None,
    max_length=1000,
    description="comma list of trunks the call may use (default: the router chooses)",
    examples=["carrier_a,carrier_b"],
)
_EXT = Field(
    default=None,
    description=f"opaque JSON (at most {MAX_EXT_BYTES} bytes), returned unchanged in the "
    "call and every webhook of it",
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="a retry with the same key returns the first request's call",
    ),
]


class CallIn(BaseModel):
    """A click-to-call: the agent's phone rings first, then the customer is dialled."""

    model_config = ConfigDict(extra="forbid")

    number: str = _NUMBER
    agent: str = Field(min_length=1, max_length=130, examples=["1001@default"])
    campaign: str | None = Field(
        default=None, max_length=100, description="region, trunk group, caller ID, webhook"
    )
    trunks: str | None = _TRUNKS
    ext: JsonValue = _EXT


class CallbackIn(BaseModel):
    """A callback at ``at`` (default: now) for one agent or a campaign's queue."""

    model_config = ConfigDict(extra="forbid")

    number: str = _NUMBER
    at: AwareDatetime | None = Field(default=None, description="when, with its offset")
    campaign: str | None = Field(default=None, max_length=100)
    agent: str | None = Field(
        default=None, max_length=130, description="reserve the callback for this agent"
    )
    trunks: str | None = _TRUNKS
    ext: JsonValue = _EXT


class CallOut(BaseModel):
    """An API call: ``status`` scheduled | dialing | ended | failed; ``outcome`` once ended
    (connected, busy, no_answer, failed, rejected, invalid_number, agent_no_answer)."""

    uuid: str
    kind: str
    status: str
    outcome: str | None
    disposition: str | None
    number: str
    agent: str | None
    campaign: str | None
    trunk: str | None
    caller_id: str | None
    hangup_cause: str | None
    hangup_cause_q850: int | None
    sip_status: str | None
    due_at: datetime | None
    created_at: datetime
    originated_at: datetime | None
    agent_answered_at: datetime | None
    answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None
    recording: str | None
    ext: JsonValue


def call_out(call: ApiCall, recording: str | None = None) -> CallOut:
    """``recording``: the URL of the call's recording (it expires), None when it has none."""
    return CallOut(
        uuid=call.call_uuid,
        kind=call.kind.value,
        status=call.status.value,
        outcome=call.outcome,
        disposition=call.disposition,
        number=call.number,
        agent=call.agent,
        campaign=call.campaign,
        trunk=call.trunk,
        caller_id=call.caller_id,
        hangup_cause=call.hangup_cause,
        hangup_cause_q850=call.hangup_cause_q850,
        sip_status=call.sip_status,
        due_at=call.due_at,
        created_at=call.created_at,
        originated_at=call.originated_at,
        agent_answered_at=call.agent_answered_at,
        answered_at=call.answered_at,
        connected_at=call.connected_at,
        ended_at=call.ended_at,
        recording=recording,
        ext=call.ext,
    )


def _trunks(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def _problem(exc: CallRefused) -> Problem:
    errors = [{"field": exc.field, "detail": exc.detail}] if exc.field else []
    return Problem(exc.status, exc.detail, errors=errors)


def _answer(response: Response, call: ApiCall, created: bool) -> CallOut:
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/calls/{call.call_uuid}"
    return call_out(call)


def calls_router(
    auth: KeyAuth,
    deps: Callable[[], CallDeps],
    store: Callable[[], ApiCallStore],
    recording_url: Callable[[str], str | None] = lambda call_uuid: None,
) -> APIRouter:
    """The routes over the `CallDeps` that ``deps()`` builds and the store ``store()``
    builds (each once, on first use: reading a call needs no switch and no Redis);
    ``recording_url(call_uuid)`` the URL of a call's recording, None when there is none."""
    router = APIRouter(tags=["calls"])
    system = auth.require(Role.SYSTEM)
    readers = auth.require(Role.SYSTEM, Role.MANAGER)
    built = functools.cache(deps)
    calls = functools.cache(store)
    refusals: dict[int | str, dict[str, Any]] = {
        code: {"description": why}
        for code, why in (
            (413, "ext too large"),
            (422, "bad number, unknown agent/campaign/trunk, DNC, unreachable, past time"),
            (503, "no trunk or switch can take the call now"),
        )
    }

    # The business systems' hot path: async, so that the service runs in one worker thread
    # and the answer is serialized on the event loop (a sync route hands both to threads).
    @router.post("/calls", response_model=CallOut, status_code=201, responses=refusals)
    async def click_to_call(
        body: CallIn,
        response: Response,
        idempotency_key: IdempotencyKey = None,
        key: ApiKey = Depends(system),
    ) -> CallOut:
        """Ring the agent; when the agent answers, dial the customer through a routed trunk."""
        request = CallRequest(
            body.number, body.agent, body.campaign, _trunks(body.trunks), body.ext
        )
        try:
            call, created = await run_in_threadpool(
                place_call, built(), key.key_id, idempotency_key, request
            )
        except CallRefused as exc:
            raise _problem(exc) from None
        return _answer(response, call, created)

    @router.post("/callbacks", response_model=CallOut, status_code=201, responses=refusals)
    def callback(
        body: CallbackIn,
        response: Response,
        idempotency_key: IdempotencyKey = None,
        key: ApiKey = Depends(system),
    ) -> CallOut:
        """Call the customer back at a time, when an agent (the named one) is free."""
        request = CallbackRequest(
            body.number, body.at, body.campaign, body.agent, _trunks(body.trunks), body.ext
        )
        try:
            call, created = schedule_callback(built(), key.key_id, idempotency_key, request)
        except CallRefused as exc:
            raise _problem(exc) from None
        return _answer(response, call, created)

    @router.get("/calls/{call_uuid}", response_model=CallOut, responses={404: {}})
    def read_call(call_uuid: str, key: ApiKey = Depends(readers)) -> CallOut:
        """The call: status, outcome, times, trunk, agent, hangup cause, recording, ext."""
        try:
            call = get_call(calls(), call_uuid)
        except CallRefused as exc:
            raise _problem(exc) from None
        if key.role is Role.SYSTEM and call.key_id != key.key_id:
            raise Problem(404, f"no call with uuid {call_uuid}")
        return call_out(call, recording_url(call.call_uuid))

    return router
