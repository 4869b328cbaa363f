"""``GET /v1/reports/cost``: the cost report of ``dialer report cost`` over HTTP (managers),
thin over `dialer.cdr.service.cost_between`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.cdr.adapters import campaign_names
from dialer.cdr.ports import CdrStore
from dialer.cdr.service import cost_between
from dialer.clock import Clock
from dialer.http_problems import Problem

__all__ = ["CostReportApi", "reports_router"]

DEFAULT_DAYS = 7


@dataclass(frozen=True)
class CostReportApi:
    store: CdrStore
    sessions: sessionmaker[Session]
    clock: Clock
    zone: ZoneInfo


class CostRowOut(BaseModel):
    campaign: str
    trunk: str
    day: date
    calls: int
    answered: int
    billsec: int
    billed_min: Decimal
    cost: Decimal
    unpriced: int
    queue_wait_s: float | None


class CostReportOut(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    rows: list[CostRowOut]


def reports_router(auth: KeyAuth, api: CostReportApi) -> APIRouter:
    router = APIRouter(tags=["reports"])
    manager = auth.require(Role.MANAGER)

    @router.get("/reports/cost", response_model=CostReportOut)
    def cost_report(
        since: AwareDatetime | None = Query(
            None, description="first call start (default: 7 days ago, at midnight)"
        ),
        until: AwareDatetime | None = Query(None, description="end (default: now)"),
        campaign: str | None = Query(None, max_length=100),
        key: ApiKey = Depends(manager),
    ) -> CostReportOut:
        """Calls, answered, billsec, billed minutes (the trunks' increments) and cost per
        campaign, trunk and day (``DIALER_TIMEZONE``), from the stored CDRs (``dialer
        report cost``)."""
        now = api.clock.now()
        end = until or now
        if since is None:
            first_day = (now.astimezone(api.zone) - timedelta(days=DEFAULT_DAYS - 1)).date()
            since = datetime.combine(first_day, time(), api.zone)
        names = campaign_names(api.sessions)
        try:
            rows = cost_between(api.store, since, end, api.zone, names, campaign)
        except ValueError as exc:
            raise Problem(422, str(exc), [{"field": "since", "detail": str(exc)}]) from None
        return CostReportOut(
            since=since, until=end, timezone=str(api.zone),
            rows=[CostRowOut.model_validate(r, from_attributes=True) for r in rows],
        )  # fmt: skip

    return router
