"""The manager's ``/v1`` routes for campaigns and do-not-call entries, thin over the services
``dialer campaigns`` and ``dialer leads dnc`` call (`campaigns.service`, `campaigns.dnc`,
`campaigns.report`, `dialer.runner.start`). Every route needs a manager key.

Refusals are problem documents: an unknown campaign 404; a name taken, a status change not
allowed from the campaign's status, a setting that cannot change while it runs, a start whose
checks fail: 409 (the fields or failed checks in ``errors``); settings or a number that do not
validate: 422 naming the field. Blocking work (the database, the switch probe) runs in the
server's thread pool (``def`` handlers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import MAXYEAR, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaigns import dnc, service
from campaigns.domain import CampaignStatus, DialMode, RetryOrder
from campaigns.models import Campaign, DncEntry
from campaigns.report import live_report
from campaigns.rules import CallingWindow, RetryPolicy
from campaigns.service import (
    CampaignConflict,
    CampaignError,
    CampaignNotFound,
    CampaignSpec,
    InvalidCampaign,
    known_region,
)
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.clock import Clock
from dialer.http_problems import Problem
from dialer.runner.ports import SwitchProbe
from dialer.runner.preflight import Finding, Verdict
from dialer.runner.start import check_campaign, start_campaign

__all__ = [
    "MAX_ROW_ID",
    "ManageDeps",
    "RowId",
    "campaign_problem",
    "campaigns_router",
    "dnc_router",
]

# row ids are 64-bit on PostgreSQL and SQLite: a larger one is refused (422), not sent
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@dataclass(frozen=True, slots=True)
class ManageDeps:
    """What the manager's routes work with: the database, the clock, the operation's time
    zone (naive times in requests are read in it), a probe of the switch nodes (made per
    check: it holds connections only while it asks) and the region of numbers without
    +country where neither the request nor a campaign gives one (DIALER_DEFAULT_REGION)."""

    sessions: sessionmaker[Session]
    clock: Clock
    zone: str
    probe: Callable[[], SwitchProbe]
    default_region: str = "CN"


def campaign_problem(exc: CampaignError) -> Problem:
    """The problem document of a refused campaign request."""
    if isinstance(exc, CampaignNotFound):
        return Problem(404, str(exc))
    if isinstance(exc, CampaignConflict):
        errors = [{"field": f"body.{f}", "detail": str(exc)} for f in exc.fields]
        return Problem(409, str(exc), errors)
    if isinstance(exc, InvalidCampaign):
        return Problem(
            422, str(exc), [{"field": f"body.{f}", "detail": msg} for f, msg in exc.errors]
        )
    return Problem(422, str(exc))


class CampaignOut(BaseModel):
    """A campaign's settings and status; ``pause_reason``/``paused_at`` say why and when
    the dialer paused it itself (null otherwise)."""

    id: int
    name: str
    status: CampaignStatus
    pause_reason: str | None
    paused_at: datetime | None
    queue_name: str
    dial_mode: DialMode
    default_region: str
    calling_window: CallingWindow
    retry_rules: RetryPolicy
    abandon_target_pct: float
    abandon_window_days: int
    abandon_run_limit: int
    max_attempts: int
    retry_order: RetryOrder
    trunk_group: str | None
    caller_id_policy: dict[str, Any]
    webhook_url: str | None
    record: bool

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        fields = {name: getattr(c, name) for name in cls.model_fields}
        return cls.model_validate(fields)


class CampaignChanges(BaseModel):
    """The settings to change (those absent stay). While the campaign runs, ``queue_name``,
    ``dial_mode`` and ``trunk_group`` are refused (409): pause, change, start again."""

    model_config = ConfigDict(extra="forbid")

    queue_name: str | None = None
    dial_mode: DialMode | None = None
    default_region: str | None = None
    calling_window: CallingWindow | None = None
    retry_rules: RetryPolicy | None = None
    abandon_target_pct: float | None = None
    abandon_window_days: int | None = None
    abandon_run_limit: int | None = None
    max_attempts: int | None = None
    retry_order: RetryOrder | None = None
    trunk_group: str | None = None
    caller_id_policy: dict[str, Any] | None = None
    webhook_url: str | None = None
    record: bool | None = None


class StartRequest(BaseModel):
    """``force``: start even when a check fails (as ``dialer campaigns start --force``)."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False


class FindingOut(BaseModel):
    check: str
    verdict: Verdict
    message: str


class StartOut(BaseModel):
    """The campaign as it is now, and every finding of the checks made before the start."""

    campaign: CampaignOut
    findings: list[FindingOut]


class ReportOut(BaseModel):
    """The figures of ``dialer campaigns show``: leads by status now; calls originated since
    ``since`` (the campaign's abandon window) by outcome (``in flight``: no outcome yet);
    ``answered`` by a person, ``abandoned``, ``abandon_rate`` = abandoned / answered,
    ``talk_s`` summed from connection to hangup."""

    campaign: str
    status: CampaignStatus
    since: datetime
    window_days: int
    leads_by_status: dict[str, int]
    calls_by_outcome: dict[str, int]
    answered: int
    abandoned: int
    abandon_rate: float
    connected: int
    talk_s: float


class CampaignListItem(CampaignOut):
    """A campaign of the list; with ``?report=true`` also its live figures."""

    report: ReportOut | None = None


def _report_out(session: Session, c: Campaign, now: datetime) -> ReportOut:
    live = live_report(session, c, now)
    r = live.report
    return ReportOut(
        campaign=c.name, status=c.status, since=live.since, window_days=live.window_days,
        leads_by_status=live.leads, calls_by_outcome=r.attempts_by_outcome,
        answered=r.answered, abandoned=r.abandoned, abandon_rate=r.abandon_rate,
        connected=r.connected, talk_s=r.talk_s,
    )  # fmt: skip


def _findings(found: tuple[Finding, ...]) -> list[FindingOut]:
    return [FindingOut(check=f.check, verdict=f.verdict, message=f.message) for f in found]


def campaigns_router(deps: ManageDeps, auth: KeyAuth) -> APIRouter:
    router = APIRouter(prefix="/campaigns", tags=["campaigns"])
    manager = auth.require(Role.MANAGER)

    @router.post("", status_code=201, response_model=CampaignOut)
    def create(spec: CampaignSpec, key: ApiKey = Depends(manager)) -> CampaignOut:
        """Create a campaign in draft status (the settings of ``dialer campaigns create``)."""
        if "default_region" not in spec.model_fields_set:
            spec = spec.model_copy(update={"default_region": deps.default_region})
        try:
            with deps.sessions.begin() as session:
                created = CampaignOut.of(service.create_campaign(session, spec))
        except CampaignError as exc:
            raise campaign_problem(exc) from None
        except IntegrityError:  # the same name created meanwhile, by another request
            taken = CampaignConflict(f"a campaign named {spec.name!r} exists already", ("name",))
            raise campaign_problem(taken) from None
        return created

    @router.get("", response_model=list[CampaignListItem])
    def list_all(
        report: Annotated[
            bool, Query(description="add each campaign's live figures (as GET .../report)")
        ] = False,
        key: ApiKey = Depends(manager),
    ) -> list[CampaignListItem]:
        """Every campaign, by name; with ``report`` each with its live figures, read in one
        request (the console's list)."""
        with deps.sessions() as session:
            now = deps.clock.now()
            return [
                CampaignListItem(
                    **CampaignOut.of(c).model_dump(),
                    report=_report_out(session, c, now) if report else None,
                )
                for c in service.list_campaigns(session)
            ]

    @router.get("/{name}", response_model=CampaignOut)
    def read(name: str, key: ApiKey = Depends(manager)) -> CampaignOut:
        try:
            with deps.sessions() as session:
                return CampaignOut.of(service.get_campaign(session, name))
        except CampaignError as exc:
            raise campaign_problem(exc) from None

    @router.patch("/{name}", response_model=CampaignOut)
    def update(name: str, changes: CampaignChanges, key: ApiKey = Depends(manager)) -> CampaignOut:
        """Change the settings given, validated as at creation; nothing changes when one is
        refused."""
        given = changes.model_dump(exclude_unset=True)
        if not given:
            raise Problem(422, "nothing to change: give at least one setting")
        try:
            with deps.sessions.begin() as session:
                return CampaignOut.of(service.update_campaign(session, name, given))
        except CampaignError as exc:
            raise campaign_problem(exc) from None

    @router.get("/{name}/report", response_model=ReportOut)
    def report(name: str, key: ApiKey = Depends(manager)) -> ReportOut:
        """The live figures: ``dialer campaigns show``'s counts, from one read."""
        try:
            with deps.sessions() as session:
                return _report_out(session, service.get_campaign(session, name), deps.clock.now())
        except CampaignError as exc:
            raise campaign_problem(exc) from None

    @router.get("/{name}/preflight", response_model=list[FindingOut])
    def preflight(name: str, key: ApiKey = Depends(manager)) -> list[FindingOut]:
        """The checks of ``dialer campaigns check``: on every node the queue, dialplan,
        trunks and agents; the calling window and due leads."""
        try:
            found = check_campaign(deps.sessions, name, deps.probe(), deps.clock, deps.zone)
        except CampaignError as exc:
            raise campaign_problem(exc) from None
        return _findings(found.findings)

    @router.post("/{name}/start", response_model=StartOut)
    def start(
        name: str,
        request: Annotated[StartRequest | None, Body()] = None,
        key: ApiKey = Depends(manager),
    ) -> StartOut:
        """Start (or resume) the campaign after the checks of ``dialer campaigns start``;
        a failing check refuses it (409 listing the failures) unless ``force``."""
        force = request.force if request is not None else False
        try:
            result = start_campaign(deps.sessions, name, deps.probe(), deps.clock, deps.zone, force)
        except CampaignError as exc:
            raise campaign_problem(exc) from None
        if not result.started:
            failures = result.preflight.failures
            raise Problem(
                409,
                f"campaign {name} not started: {len(failures)} check(s) failed "
                "(fix them, or start with force)",
                [{"field": f"preflight.{f.check}", "detail": f.message} for f in failures],
            )
        return StartOut(campaign=read(name, key), findings=_findings(result.preflight.findings))

    def _transition(name: str, action: str) -> CampaignOut:
        try:
            with deps.sessions.begin() as session:
                return CampaignOut.of(service.transition(session, name, action))
        except CampaignError as exc:
            raise campaign_problem(exc) from None

    @router.post("/{name}/pause", response_model=CampaignOut)
    def pause(name: str, key: ApiKey = Depends(manager)) -> CampaignOut:
        """Pause a running campaign: no new calls; calls up now finish."""
        return _transition(name, "pause")

    @router.post("/{name}/stop", response_model=CampaignOut)
    def stop(name: str, key: ApiKey = Depends(manager)) -> CampaignOut:
        """Stop the campaign."""
        return _transition(name, "stop")

    return router


class DncIn(BaseModel):
    """A number (normalized to E.164 as the lead import does; without ``+country`` it is read
    in ``region``, else the campaign's, else DIALER_DEFAULT_REGION) or, with ``prefix``, an
    E.164 prefix. ``campaign``: only for that campaign
    (default: every campaign). ``expires_at``: when it lapses (no offset: the operation's
    time zone); never when absent."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40)
    prefix: bool = False
    campaign: str | None = None
    region: str | None = None
    reason: str = Field(default="", max_length=1000)
    expires_at: datetime | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, region: str | None) -> str | None:
        return None if region is None else known_region(region)


class DncOut(BaseModel):
    id: int
    number: str
    prefix: bool
    campaign_id: int | None
    source: str
    reason: str
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, e: DncEntry) -> DncOut:
        return cls(
            id=e.id, number=e.number, prefix=e.is_prefix, campaign_id=e.campaign_id,
            source=e.source, reason=e.reason, created_at=e.created_at, expires_at=e.expires_at,
        )  # fmt: skip


class DncAddedOut(BaseModel):
    """The stored entry and how many pending leads it turned ``dnc`` at once."""

    entry: DncOut
    leads_marked: int


class DncPageOut(BaseModel):
    """``entries`` newest first, from ``offset``; ``total`` in the scope asked."""

    entries: list[DncOut]
    total: int
    limit: int
    offset: int


def dnc_router(deps: ManageDeps, auth: KeyAuth) -> APIRouter:
    router = APIRouter(prefix="/dnc", tags=["dnc"])
    manager = auth.require(Role.MANAGER)

    def _campaign(session: Session, name: str | None, field: str) -> Campaign | None:
        if name is None:
            return None
        try:
            return service.get_campaign(session, name)
        except CampaignNotFound as exc:
            raise Problem(422, str(exc), [{"field": field, "detail": str(exc)}]) from None

    def _campaign_id(session: Session, name: str | None, field: str) -> int | None:
        found = _campaign(session, name, field)
        return found.id if found else None

    @router.get("", response_model=DncPageOut)
    def list_entries(
        campaign: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
        key: ApiKey = Depends(manager),
    ) -> DncPageOut:
        """The entries, newest first, a page at a time; ``campaign``: its own entries only."""
        with deps.sessions() as session:
            campaign_id = _campaign_id(session, campaign, "query.campaign")
            page = dnc.list_entries(session, campaign_id=campaign_id, limit=limit, offset=offset)
            entries = [DncOut.of(e) for e in page.entries]
        return DncPageOut(entries=entries, total=page.total, limit=limit, offset=offset)

    @router.post("", status_code=201, response_model=DncAddedOut)
    def add(entry: DncIn, key: ApiKey = Depends(manager)) -> DncAddedOut:
        """Add a number or prefix; the pending leads it covers turn ``dnc`` at once."""
        expires_at = entry.expires_at
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=ZoneInfo(deps.zone))
        if expires_at is not None and expires_at.year >= MAXYEAR:
            # stored in UTC: the last year's times may not convert
            detail = f"expiry {expires_at.isoformat()} is too far ahead (before {MAXYEAR})"
            raise Problem(422, detail, [{"field": "body.expires_at", "detail": detail}])
        try:
            with deps.sessions.begin() as session:
                campaign = _campaign(session, entry.campaign, "body.campaign")
                campaign_id = campaign.id if campaign else None
                region = entry.region or (
                    campaign.default_region if campaign else deps.default_region
                )
                added = dnc.add_entry(
                    session, entry.number, region=region, now=deps.clock.now(),
                    is_prefix=entry.prefix, campaign_id=campaign_id, source="api",
                    reason=entry.reason, expires_at=expires_at,
                )  # fmt: skip
                return DncAddedOut(entry=DncOut.of(added.entry), leads_marked=added.leads_marked)
        except dnc.DncError as exc:
            field = f"body.{exc.field}"
            raise Problem(422, str(exc), [{"field": field, "detail": str(exc)}]) from None

    @router.delete("/{entry_id}", status_code=204)
    def remove(entry_id: RowId, key: ApiKey = Depends(manager)) -> Response:
        """Remove an entry; leads it turned ``dnc`` stay so."""
        with deps.sessions.begin() as session:
            if not dnc.remove_entry(session, entry_id):
                raise Problem(404, f"no DNC entry #{entry_id}")
        return Response(status_code=204)

    return router
