"""The JSON of the trunk, rate and route endpoints (`dialer.routing.http`): requests refuse
unknown fields; defaults are `dialer.routing.spec.TrunkFields`'s own. Money is a decimal
string (``"0.030000"``), carried exactly."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from dialer.routing.model import CallerIdMode, NumberFormat, NumberWindow, UnknownRegionPolicy
from dialer.routing.spec import TrunkFields

_D = TrunkFields(name="", proxy="")


class _TrunkSettings(BaseModel):
    """The settings of a trunk apart from its name and proxy (see `Trunk`)."""

    model_config = ConfigDict(extra="forbid")

    callee_prefix: str = Field(
        _D.callee_prefix, description="digits before the callee (被叫加前缀)"
    )
    number_format: NumberFormat = _D.number_format
    caller_ids: list[str] = Field(
        list(_D.caller_ids), description="caller IDs to send (主叫送): 1-32 digits, + first"
    )
    caller_id_mode: CallerIdMode = _D.caller_id_mode
    caller_id_daily_cap: int = Field(_D.caller_id_daily_cap, description="calls per ID a day")
    local_presence: bool = _D.local_presence
    max_concurrency: int = Field(_D.max_concurrency, description="calls at once (并发), 0: any")
    max_cps: int = Field(_D.max_cps, description="new calls per second, 0: no limit")
    blind_areas: list[str] = Field(
        list(_D.blind_areas), description="provinces it cannot reach (盲区), e.g. 北京, Xinjiang"
    )
    blind_prefixes: list[str] = Field(
        list(_D.blind_prefixes), description="E.164 digit prefixes it cannot reach"
    )
    unknown_region: UnknownRegionPolicy = _D.unknown_region
    per_number_cap: int = Field(_D.per_number_cap, description="calls per number (一天一次 = 1)")
    per_number_window: NumberWindow = _D.per_number_window
    time_zone: str = _D.time_zone
    active_hours: list[str] = Field(list(_D.active_hours), description="HH:MM-HH:MM windows")
    weight: int = Field(_D.weight, description="share among equal-cost trunks; 0: never")
    groups: list[str] = Field(list(_D.groups), description="trunk groups")
    # named by its alias: ``register`` would shadow `BaseModel.register`
    register_: bool = Field(_D.register, alias="register", description="register with it")
    username: str = _D.username
    password: str = Field(_D.password, description="written, never read back")
    realm: str = _D.realm
    sip_profile: str = _D.sip_profile
    ping_interval_s: int = Field(_D.ping_interval_s, description="OPTIONS ping, 0: off")
    enabled: bool = Field(_D.enabled, description="False: no call is routed to it")
    fs_nodes: list[str] = Field(list(_D.fs_nodes), description="FreeSWITCH nodes (none: all)")


class TrunkIn(_TrunkSettings):
    """A new trunk, as the carrier hands it over."""

    name: str = Field(description="the trunk's (and its gateway's) name")
    proxy: str = Field(description="carrier HOST or HOST:PORT (5060 by default)")


class TrunkPatch(_TrunkSettings):
    """Settings to change; only those given change (the name never does)."""

    proxy: str = Field("", description="carrier HOST or HOST:PORT")


class HealthOut(BaseModel):
    """A trunk's health: ``state`` up, gateway down, suspended or trial call due; ``until``
    when a suspension ends (ISO 8601, UTC)."""

    state: str
    until: str | None
    why: str


class TrunkOut(BaseModel):
    """A trunk's settings (not its password) with its rate count and, when the shared state
    could be read (``live``), its lines in use, new calls in the last second and health."""

    name: str
    proxy: str
    callee_prefix: str
    number_format: NumberFormat
    caller_ids: list[str]
    caller_id_mode: CallerIdMode
    caller_id_daily_cap: int
    local_presence: bool
    max_concurrency: int
    max_cps: int
    blind_areas: list[str]
    blind_prefixes: list[str]
    unknown_region: UnknownRegionPolicy
    per_number_cap: int
    per_number_window: NumberWindow
    time_zone: str
    active_hours: list[str]
    weight: int
    groups: list[str]
    register_: bool = Field(alias="register")
    username: str
    password_set: bool
    realm: str
    sip_profile: str
    ping_interval_s: int
    enabled: bool
    fs_nodes: list[str]
    rates: int
    live: bool
    lines_in_use: int | None
    calls_last_second: int | None
    health: HealthOut | None


class RateOut(BaseModel):
    prefix: str
    rate_per_min: Decimal
    billing_increment_s: int
    connection_fee: Decimal


class RatesOut(BaseModel):
    """A page of a trunk's rates, by prefix; ``total`` rates in all."""

    trunk: str
    total: int
    offset: int
    rates: list[RateOut]


class RateImportOut(BaseModel):
    trunk: str
    stored: int


class CandidateOut(BaseModel):
    """A trunk that can take the number, in rank order (1 is tried first)."""

    rank: int
    trunk: str
    trial_call: bool
    dial_string: str
    caller_id: str | None
    rate_per_min: Decimal
    prefix: str


class ExclusionOut(BaseModel):
    trunk: str
    reason: str
    detail: str


class TrunkHealthOut(HealthOut):
    trunk: str


class RouteOut(BaseModel):
    """``dialer route`` as JSON: the number as read, its region, the ranked trunks, every
    exclusion explained, the trunks not plainly up; ``reason`` why none is left (None when
    ``routable``); ``health_known`` False when the shared health could not be read (every
    trunk was counted up)."""

    number: str
    region_zh: str
    region_en: str
    routable: bool
    reason: str | None
    candidates: list[CandidateOut]
    exclusions: list[ExclusionOut]
    health: list[TrunkHealthOut]
    health_known: bool
