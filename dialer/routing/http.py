"""``/v1/trunks``, ``/v1/trunks/{name}/rates`` and ``/v1/route`` (manager keys): thin over
`dialer.routing.service`, the functions ``dialer trunks|rates|route`` call.

A trunk is validated when it is made (`dialer.routing.spec.build_trunk`): a bad value is a
422 naming each field, and nothing is written. A rate deck is all or nothing
(`import_rate_deck`): one bad row rejects the deck, each bad row named (``row N: why``).
Handlers are plain functions: FastAPI runs them in its thread pool, since the database and
Redis clients block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.clock import Clock
from dialer.http_problems import Problem
from dialer.routing.explain import HealthView, describe_health, down_details, unroutable_reason
from dialer.routing.health import TrunkHealth
from dialer.routing.model import InvalidValues, Trunk
from dialer.routing.router import RouteDecision
from dialer.routing.schemas import (
    CandidateOut,
    ExclusionOut,
    HealthOut,
    RateImportOut,
    RateOut,
    RatesOut,
    RouteOut,
    TrunkHealthOut,
    TrunkIn,
    TrunkOut,
    TrunkPatch,
)
from dialer.routing.service import (
    RateDeckNotText,
    RateDeckRejected,
    TrunkExists,
    TrunkLive,
    TrunkNotFound,
    UnroutableNumber,
    add_trunk,
    explain_route,
    get_trunk,
    import_rate_file,
    live_trunks,
    load_trunks,
    rate_count,
    rate_counts,
    rates_of,
    remove_trunk,
    trunk_names,
    update_trunk,
)
from dialer.routing.spec import TrunkFields, build_trunk, fields_of
from dialer.routing.wiring import TrunkState

__all__ = ["RoutingApi", "routing_router"]

_LIVE_ERRORS = (redis.RedisError, OSError)
# a trunk's name as `Trunk` accepts it: no other name can exist (and none reaches a query)
TrunkName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="the trunk's name")
]
_NO_NUL = r"^[^\x00]*$"  # a NUL cannot be in a database's text
_MAX_RATES_PAGE = 10_000
_MAX_OFFSET = 10**9  # past any deck; keeps the OFFSET a database takes


@dataclass(frozen=True)
class RoutingApi:
    """What the routes need: the database, the trunk state the pacers share (built on
    first use), the clock, and the region a number without ``+country`` is read in."""

    sessions: sessionmaker[Session]
    trunk_state: Callable[[], TrunkState]
    clock: Clock
    default_region: str = "CN"


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def _health_out(view: HealthView) -> HealthOut:
    until = None if view.until_s is None else _iso(view.until_s)
    return HealthOut(state=view.state, until=until, why=view.why)


def _trunk_out(trunk: Trunk, rates: int, live: TrunkLive | None, now_s: float) -> TrunkOut:
    values = asdict(fields_of(trunk))
    values["password_set"] = bool(values.pop("password"))
    health = None
    if live is not None:
        health = _health_out(describe_health(live.health or TrunkHealth(), now_s))
    return TrunkOut(
        **values,
        rates=rates,
        live=live is not None,
        lines_in_use=None if live is None else live.usage.in_flight,
        calls_last_second=None if live is None else live.usage.calls_last_second,
        health=health,
    )


def _field_errors(invalid: InvalidValues) -> list[dict[str, str]]:
    return [{"field": f"body.{field}", "detail": detail} for field, detail in invalid.problems]


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as problem documents."""
    try:
        yield
    except TrunkNotFound as exc:
        raise Problem(404, str(exc)) from None
    except TrunkExists as exc:
        raise Problem(409, str(exc), [{"field": "body.name", "detail": str(exc)}]) from None
    except InvalidValues as exc:
        raise Problem(422, f"the trunk is not valid: {exc}", _field_errors(exc)) from None


def _settings(body: TrunkIn | TrunkPatch, only_set: bool) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=only_set, by_alias=True)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def routing_router(auth: KeyAuth, api: RoutingApi) -> APIRouter:
    router = APIRouter(tags=["trunks"])
    manager = auth.require(Role.MANAGER)

    def live(names: list[str]) -> dict[str, TrunkLive] | None:
        try:
            state = api.trunk_state()
            return live_trunks(names, state.reservations, state.health)
        except _LIVE_ERRORS:
            return None

    def one_out(session: Session, trunk: Trunk) -> TrunkOut:
        seen = live([trunk.name])
        rates = rate_count(session, trunk.name)
        now_s = api.clock.now().timestamp()
        return _trunk_out(trunk, rates, None if seen is None else seen[trunk.name], now_s)

    @router.get("/trunks", response_model=list[TrunkOut])
    def list_trunks(key: ApiKey = Depends(manager)) -> list[TrunkOut]:
        """Every trunk with its limits, rate count, lines in use and health (``dialer trunks
        list``)."""
        with api.sessions() as session:
            trunks = sorted(load_trunks(session, with_rates=False), key=lambda t: t.name)
            counts = rate_counts(session)
        seen = live([t.name for t in trunks])
        now_s = api.clock.now().timestamp()
        return [
            _trunk_out(t, counts.get(t.name, 0), None if seen is None else seen[t.name], now_s)
            for t in trunks
        ]

    @router.post("/trunks", response_model=TrunkOut, status_code=201)
    def create_trunk(body: TrunkIn, key: ApiKey = Depends(manager)) -> TrunkOut:
        """Add a trunk (``dialer trunks add``): every value checked first, nothing written
        when one is refused."""
        with _refusals():
            trunk = build_trunk(TrunkFields(**_settings(body, only_set=False)))
            with api.sessions.begin() as session:
                add_trunk(session, trunk)
        with api.sessions() as session:
            return one_out(session, trunk)

    @router.get("/trunks/{name}", response_model=TrunkOut)
    def read_trunk(name: TrunkName, key: ApiKey = Depends(manager)) -> TrunkOut:
        with _refusals(), api.sessions() as session:
            return one_out(session, get_trunk(session, name, with_rates=False))

    @router.patch("/trunks/{name}", response_model=TrunkOut)
    def change_trunk(name: TrunkName, body: TrunkPatch, key: ApiKey = Depends(manager)) -> TrunkOut:
        """Change the settings given (``{"enabled": false}`` disables the trunk), validated
        as a new trunk is; nothing changes when one is refused."""
        with _refusals():
            with api.sessions.begin() as session:
                trunk = update_trunk(session, name, _settings(body, only_set=True))
            with api.sessions() as session:
                return one_out(session, trunk)

    @router.delete("/trunks/{name}", status_code=204)
    def delete_trunk(name: TrunkName, key: ApiKey = Depends(manager)) -> Response:
        """Delete the trunk and its rate deck (to keep it but route nothing to it, PATCH
        ``enabled`` false)."""
        with _refusals(), api.sessions.begin() as session:
            remove_trunk(session, name)
        return Response(status_code=204)

    @router.put("/trunks/{name}/rates", response_model=RateImportOut)
    def upload_rates(
        name: TrunkName,
        file: Annotated[UploadFile, File(description="the rate deck, CSV (UTF-8)")],
        no_header: Annotated[
            bool,
            Form(description="the first row is data: prefix,rate_per_min[,billing_increment_s"
                 "[,connection_fee]]"),
        ] = False,
        key: ApiKey = Depends(manager),
    ) -> RateImportOut:  # fmt: skip
        """Replace the trunk's rate deck (``dialer rates import``), all or nothing: any bad
        row rejects the whole deck, each bad row named, and the stored deck is unchanged."""
        try:
            with _refusals(), api.sessions.begin() as session:
                stored = import_rate_file(session, name, file.file, header=not no_header)
        except RateDeckNotText as exc:
            detail = f"{file.filename or 'the file'} is {exc}"
            raise Problem(422, detail, [{"field": "body.file", "detail": detail}]) from None
        except RateDeckRejected as rejected:
            errors = [{"field": "body.file", "detail": p} for p in rejected.problems]
            raise Problem(422, str(rejected), errors) from None
        return RateImportOut(trunk=name, stored=stored)

    @router.get("/trunks/{name}/rates", response_model=RatesOut)
    def list_rates(
        name: TrunkName,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=_MAX_RATES_PAGE)] = 1000,
        key: ApiKey = Depends(manager),
    ) -> RatesOut:
        """The trunk's rates by prefix, a page at a time."""
        with _refusals(), api.sessions() as session:
            rates = rates_of(session, name, offset, limit)
            total = rate_count(session, name)
        return RatesOut(
            trunk=name,
            total=total,
            offset=offset,
            rates=[RateOut(**asdict(r)) for r in rates],
        )

    @router.get("/route", response_model=RouteOut)
    def route(
        number: Annotated[
            str, Query(description="as a lead file has it", max_length=64, pattern=_NO_NUL)
        ],
        campaign: Annotated[
            str | None, Query(description="whose trunk group applies", pattern=_NO_NUL)
        ] = None,
        cost_band: Annotated[float, Query(ge=0, le=10)] = 0.0,
        key: ApiKey = Depends(manager),
    ) -> RouteOut:
        """The trunks ranked for ``number`` now with their live health, every exclusion
        explained (``dialer route``); ``routable`` false and ``reason`` when none is left."""
        now = api.clock.now()
        with api.sessions() as session:
            names = trunk_names(session)
            seen = live(names)
            health = {n: s.health for n, s in (seen or {}).items() if s.health is not None}
            try:
                decision = explain_route(
                    session, number, now, campaign, Decimal(str(cost_band)),
                    default_region=api.default_region, health=health,
                )  # fmt: skip
            except UnroutableNumber as exc:
                errors = [{"field": "query.number", "detail": str(exc)}]
                raise Problem(422, str(exc), errors) from None
            except LookupError as exc:
                errors = [{"field": "query.campaign", "detail": str(exc)}]
                raise Problem(422, str(exc), errors) from None
        return _route_out(decision, health, now.timestamp(), campaign, seen is not None)

    return router


def _route_out(
    decision: RouteDecision,
    health: dict[str, TrunkHealth],
    now_s: float,
    campaign: str | None,
    health_known: bool,
) -> RouteOut:
    down = down_details(decision, health, now_s, _iso)
    routable = bool(decision.candidates)
    return RouteOut(
        number=decision.number,
        region_zh=decision.region.zh,
        region_en=decision.region.en,
        routable=routable,
        reason=None if routable else unroutable_reason(decision, campaign, down),
        candidates=[
            CandidateOut(
                rank=i,
                trunk=c.trunk,
                trial_call=c.probe,
                dial_string=c.dial_string,
                caller_id=c.caller_id,
                rate_per_min=c.rate.rate_per_min,
                prefix=c.rate.prefix,
            )
            for i, c in enumerate(decision.candidates, start=1)
        ],
        exclusions=[
            ExclusionOut(trunk=x.trunk, reason=str(x.reason), detail=down.get(x.trunk, x.detail))
            for x in decision.exclusions
        ],
        health=[
            TrunkHealthOut(trunk=n, **_health_out(describe_health(health[n], now_s)).model_dump())
            for n in sorted(health)
        ],
        health_known=health_known,
    )
