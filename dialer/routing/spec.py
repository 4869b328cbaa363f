"""A trunk as an operator writes it (`TrunkFields`: the options of ``dialer trunks add``, the
body of ``POST /v1/trunks``) and the one way it becomes a `Trunk` (`build_trunk`). Pure.

`build_trunk` reports every bad value at once, each under its field's name in
`TrunkFields` (`InvalidValues.problems`), so the CLI prints the first and the API names them
all; whatever it accepts is a `Trunk`, which validated it (`dialer.routing.model`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from dialer.routing.model import (
    ActiveWindow,
    BlindAreas,
    CallerIdMode,
    CallerIdPolicy,
    InvalidValues,
    NumberFormat,
    NumberWindow,
    Trunk,
    UnknownRegionPolicy,
    split_proxy,
)

__all__ = ["TRUNK_FIELD_NAMES", "TrunkFields", "build_trunk", "fields_of", "updated_fields"]

_T = TypeVar("_T")
# where a part's or the trunk's own attribute is written in `TrunkFields`
_CALLER_ID_FIELDS = {"numbers": "caller_ids", "daily_cap_per_number": "caller_id_daily_cap"}
_BLIND_FIELDS = {"regions": "blind_areas", "prefixes": "blind_prefixes"}
_TRUNK_FIELDS = {"proxy_host": "proxy", "proxy_port": "proxy"}
_PLACEHOLDER_HOST = "placeholder.invalid"  # stands for a proxy already reported as bad


@dataclass(frozen=True, slots=True)
class TrunkFields:
    """Every setting of a trunk as written by an operator: ``proxy`` is ``HOST[:PORT]``
    (5060 by default), ``active_hours`` ``HH:MM-HH:MM`` windows in ``time_zone``; limits
    and caps are counts, 0 meaning none (see `Trunk` for their meaning)."""

    name: str
    proxy: str
    callee_prefix: str = ""
    number_format: NumberFormat = NumberFormat.NATIONAL
    caller_ids: tuple[str, ...] = ()
    caller_id_mode: CallerIdMode = CallerIdMode.SINGLE
    caller_id_daily_cap: int = 0
    local_presence: bool = False
    max_concurrency: int = 0
    max_cps: int = 0
    blind_areas: tuple[str, ...] = ()
    blind_prefixes: tuple[str, ...] = ()
    unknown_region: UnknownRegionPolicy = UnknownRegionPolicy.ALLOW
    per_number_cap: int = 0
    per_number_window: NumberWindow = NumberWindow.DAY
    time_zone: str = "Asia/Shanghai"
    active_hours: tuple[str, ...] = ()
    weight: int = 1
    groups: tuple[str, ...] = ()
    register: bool = False
    username: str = ""
    password: str = ""
    realm: str = ""
    sip_profile: str = "external"
    ping_interval_s: int = 0
    enabled: bool = True
    fs_nodes: tuple[str, ...] = ()


TRUNK_FIELD_NAMES = frozenset(f.name for f in fields(TrunkFields))


def _part(
    make: Callable[[], _T], fallback: _T, renamed: dict[str, str], problems: list[tuple[str, str]]
) -> _T:
    """``make()``, or ``fallback`` with its problems (fields ``renamed``) added."""
    try:
        return make()
    except InvalidValues as invalid:
        problems += [(renamed.get(attr, attr), detail) for attr, detail in invalid.problems]
    return fallback


def _proxy(text: str, problems: list[tuple[str, str]]) -> tuple[str, int]:
    try:
        return split_proxy(text)
    except ValueError as exc:
        problems.append(("proxy", str(exc)))
    return _PLACEHOLDER_HOST, 5060


def _windows(texts: Iterable[str], problems: list[tuple[str, str]]) -> tuple[ActiveWindow, ...]:
    windows = []
    for text in texts:
        try:
            windows.append(ActiveWindow.parse(text))
        except ValueError as exc:
            problems.append(("active_hours", str(exc)))
    return tuple(windows)


def build_trunk(spec: TrunkFields) -> Trunk:
    """The trunk ``spec`` describes (no rates); `InvalidValues` naming each bad field."""
    problems: list[tuple[str, str]] = []
    host, port = _proxy(spec.proxy, problems)
    caller_id = _part(
        lambda: CallerIdPolicy(
            spec.caller_ids, spec.caller_id_mode, spec.caller_id_daily_cap, spec.local_presence
        ),
        CallerIdPolicy(),
        _CALLER_ID_FIELDS,
        problems,
    )
    blind = _part(
        lambda: BlindAreas(spec.blind_areas, spec.blind_prefixes, spec.unknown_region),
        BlindAreas(),
        _BLIND_FIELDS,
        problems,
    )
    windows = _windows(spec.active_hours, problems)
    trunk = _part(
        lambda: Trunk(
            name=spec.name,
            proxy_host=host,
            proxy_port=port,
            sip_profile=spec.sip_profile,
            register=spec.register,
            username=spec.username,
            password=spec.password,
            realm=spec.realm,
            callee_prefix=spec.callee_prefix,
            number_format=spec.number_format,
            caller_id=caller_id,
            max_concurrency=spec.max_concurrency,
            max_cps=spec.max_cps,
            blind_areas=blind,
            per_number_cap=spec.per_number_cap,
            per_number_window=spec.per_number_window,
            time_zone=spec.time_zone,
            active_hours=windows,
            enabled=spec.enabled,
            weight=spec.weight,
            groups=spec.groups,
            ping_interval_s=spec.ping_interval_s,
            fs_nodes=spec.fs_nodes,
        ),
        None,
        _TRUNK_FIELDS,
        problems,
    )
    if trunk is None or problems:
        raise InvalidValues(problems)
    return trunk


def _proxy_text(trunk: Trunk) -> str:
    return f"{trunk.proxy_host}:{trunk.proxy_port}"


def fields_of(trunk: Trunk) -> TrunkFields:
    """The fields ``trunk`` was built from (``build_trunk(fields_of(t))`` equals ``t``
    without its rates)."""
    return TrunkFields(
        name=trunk.name, proxy=_proxy_text(trunk), callee_prefix=trunk.callee_prefix,
        number_format=trunk.number_format, caller_ids=trunk.caller_id.numbers,
        caller_id_mode=trunk.caller_id.mode,
        caller_id_daily_cap=trunk.caller_id.daily_cap_per_number,
        local_presence=trunk.caller_id.local_presence, max_concurrency=trunk.max_concurrency,
        max_cps=trunk.max_cps, blind_areas=trunk.blind_areas.regions,
        blind_prefixes=trunk.blind_areas.prefixes,
        unknown_region=trunk.blind_areas.unknown_region, per_number_cap=trunk.per_number_cap,
        per_number_window=trunk.per_number_window, time_zone=trunk.time_zone,
        active_hours=tuple(str(w) for w in trunk.active_hours), weight=trunk.weight,
        groups=trunk.groups, register=trunk.register, username=trunk.username,
        password=trunk.password, realm=trunk.realm, sip_profile=trunk.sip_profile,
        ping_interval_s=trunk.ping_interval_s, enabled=trunk.enabled, fs_nodes=trunk.fs_nodes,
    )  # fmt: skip


def updated_fields(current: TrunkFields, changes: dict[str, Any]) -> TrunkFields:
    """``current`` with ``changes`` (by field name; lists become tuples). The name stays:
    it is the gateway's name on every switch. `InvalidValues` for an unknown field or a
    new name."""
    unknown = sorted(set(changes) - TRUNK_FIELD_NAMES)
    if unknown:
        raise InvalidValues((name, f"{name} is not a setting of a trunk") for name in unknown)
    if changes.get("name", current.name) != current.name:
        raise InvalidValues([("name", "a trunk keeps its name (add a new trunk instead)")])
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    return replace(current, **values)
