"""Webhook routes of the HTTP API: the deliveries of a call, and a test event.

``GET /v1/calls/{call_uuid}/deliveries`` (a manager, or the system key that placed the call;
another system key is told there is no such call): every delivery of the call with each
try's time, URL, status code, error and the next try planned.

``POST /v1/webhooks/test``: one signed ``webhook.test`` event to the caller's webhook (a
system key's own; a manager names a campaign), and the receiver's answer; nothing retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, KeyStore, Role
from dialer.http_problems import Problem
from dialer.postcall.call_log import CallLogError
from dialer.postcall.ports import CallDeliveries, Target
from dialer.postcall.service import PostCallDeps, call_deliveries, send_test_event

__all__ = ["WebhookApiDeps", "webhooks_router"]

# a call's uuid as the dialer assigns them (8-4-4-4-12 hex), or any such plain token
CALL_UUID = Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="the call's uuid")


@dataclass(frozen=True, slots=True)
class WebhookApiDeps:
    """``post_call`` (store, sender, clock) as the workers use it; ``keys`` for a system
    key's webhook; ``campaign_target(name)`` a campaign's webhook (None: it has none;
    `LookupError`: no such campaign)."""

    post_call: PostCallDeps
    keys: KeyStore
    campaign_target: Callable[[str], Target | None]


class TryOut(BaseModel):
    tried_at: datetime
    url: str
    status_code: int | None = Field(description="null: no HTTP response (see error)")
    error: str = Field(description="the response body or network error; empty on success")
    next_try_at: datetime | None = Field(description="the next try planned after this one")


class DeliveryOut(BaseModel):
    event: str = Field(examples=["call.ended"])
    delivery: str = Field(description="the X-Dialer-Delivery header receivers dedupe on")
    state: str = Field(description="retrying, delivered or failed")
    url: str = Field(description="where the last try went")
    next_try_at: datetime | None
    delivered_at: datetime | None
    tries: list[TryOut]


class DeliveriesOut(BaseModel):
    call_uuid: str
    deliveries: list[DeliveryOut]


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: str | None = Field(
        default=None, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
        description="a manager names the campaign to test",
    )  # fmt: skip


class TestOut(BaseModel):
    url: str
    delivered: bool = Field(description="the receiver answered 2xx")
    status_code: int | None
    error: str


def _deliveries_out(found: CallDeliveries) -> DeliveriesOut:
    return DeliveriesOut(
        call_uuid=found.call_uuid,
        deliveries=[
            DeliveryOut(
                event=d.event, delivery=d.delivery, state=d.state, url=d.url,
                next_try_at=d.next_try_at, delivered_at=d.delivered_at,
                tries=[
                    TryOut(tried_at=t.tried_at, url=t.url, status_code=t.status_code,
                           error=t.error, next_try_at=t.next_try_at)
                    for t in d.tries
                ],
            )
            for d in found.deliveries
        ],
    )  # fmt: skip


def _deliveries_of(deps: WebhookApiDeps, call_uuid: str, key: ApiKey) -> DeliveriesOut:
    missing = Problem(404, f"no call with uuid {call_uuid}")
    try:
        found = call_deliveries(deps.post_call.store, call_uuid)
    except CallLogError:
        raise missing from None
    if key.role is Role.SYSTEM and found.api_key_id != key.key_id:
        raise missing  # another key's call is not told apart from no call
    return _deliveries_out(found)


def _test_target(deps: WebhookApiDeps, body: TestIn, key: ApiKey) -> tuple[Target, dict[str, str]]:
    if key.role is Role.SYSTEM:
        if body.campaign is not None:
            raise Problem(
                422, "a system key tests its own webhook", [{"field": "body.campaign",
                "detail": "not taken with a system key"}],
            )  # fmt: skip
        hook = deps.keys.webhook(key.key_id)
        if hook is None:
            raise Problem(409, f"key {key.key_id} has no webhook (dialer keys webhook)")
        return Target(*hook), {"api_key_id": key.key_id}
    if body.campaign is None:
        field = [{"field": "body.campaign", "detail": "the campaign whose webhook to test"}]
        raise Problem(422, "name a campaign", field)
    try:
        target = deps.campaign_target(body.campaign)
    except LookupError:
        field = [{"field": "body.campaign", "detail": "no such campaign"}]
        raise Problem(422, f"no campaign named {body.campaign!r}", field) from None
    if target is None:
        raise Problem(409, f"campaign {body.campaign} has no webhook")
    return target, {"campaign": body.campaign}


def webhooks_router(deps: WebhookApiDeps, auth: KeyAuth) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    readers = auth.require(Role.MANAGER, Role.SYSTEM)

    @router.get("/calls/{call_uuid}/deliveries", response_model=DeliveriesOut)
    async def deliveries(
        call_uuid: str = CALL_UUID, key: ApiKey = Depends(readers)
    ) -> DeliveriesOut:
        """Every webhook delivery of the call, each try with its time, status code, error
        and the next try planned (docs/api/webhooks.md)."""
        return await run_in_threadpool(_deliveries_of, deps, call_uuid, key)

    @router.post("/webhooks/test", response_model=TestOut)
    async def test(body: TestIn | None = None, key: ApiKey = Depends(readers)) -> TestOut:
        """Send one signed ``webhook.test`` event now and report the receiver's answer."""
        target, about = _test_target(deps, body or TestIn(), key)
        result = await run_in_threadpool(send_test_event, deps.post_call, target, about)
        code = result.status_code
        return TestOut(
            url=target.url, delivered=code is not None and 200 <= code < 300,
            status_code=code, error=result.error,
        )  # fmt: skip

    return router
