"""FreeSWITCH configuration rendered from the trunk models.

- ``sip_profiles/external/NAME.xml``: one sofia gateway per trunk (include under the profile's
  ``<gateways>``); the dialer dials it as ``sofia/gateway/NAME/PREFIX+NUMBER`` with
  ``origination_caller_id_number`` set, and ``caller-id-in-from`` puts that number in From.
- ``autoload_configs/distributor.conf.xml``: one mod_distributor list per trunk group plus
  ``all``, nodes weighted like the router's smooth weighted round-robin; weight-0 and
  disabled trunks are left out (mod_distributor refuses weights below 1).
- ``lcr.sql``: mod_lcr's ``carriers`` / ``carrier_gateway`` / ``lcr`` rows from the rate decks,
  so that FreeSWITCH-side least-cost routing ranks the same prices.

XML templates autoescape every value; the SQL template quotes strings with :func:`sql_literal`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from phonenumbers import region_code_for_country_code

from dialer.routing.health import TrunkQuality
from dialer.routing.model import NumberFormat, Trunk

ALL_LIST = "all"


def sql_literal(value: object) -> str:
    """A PostgreSQL string literal (standard_conforming_strings on)."""
    return "'" + str(value).replace("'", "''") + "'"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("fs_conf", "templates"),
        autoescape=select_autoescape(enabled_extensions=("xml", "xml.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["sql"] = sql_literal
    env.filters["xmlbool"] = lambda value: "true" if value else "false"
    # PCRE treats a backslash before a non-alphanumeric character as that literal character
    env.filters["regex"] = re.escape
    return env


_ENV = _environment()


def render_template(name: str, **context: object) -> str:
    """Render one template of ``fs_conf/templates`` (XML ones autoescaped)."""
    return _ENV.get_template(name).render(**context)


def gateway_xml(trunk: Trunk) -> str:
    return _ENV.get_template("gateway.xml.j2").render(trunk=trunk)


@dataclass(frozen=True, slots=True)
class _Node:
    name: str
    weight: int


@dataclass(frozen=True, slots=True)
class _List:
    name: str
    nodes: tuple[_Node, ...]


def distributor_xml(trunks: Iterable[Trunk]) -> str:
    usable = sorted((t for t in trunks if t.enabled and t.weight > 0), key=lambda t: t.name)
    groups = sorted({g for t in usable for g in t.groups})
    lists = [_List(ALL_LIST, tuple(_Node(t.name, t.weight) for t in usable))]
    lists += [
        _List(g, tuple(_Node(t.name, t.weight) for t in usable if g in t.groups)) for g in groups
    ]
    lists = [lst for lst in lists if lst.nodes]
    return _ENV.get_template("distributor.conf.xml.j2").render(lists=lists)


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _country_code_digits(trunk: Trunk) -> int:
    """Length of the country calling code the trunk's rate prefixes start with (0: none)."""
    for prefix in sorted(trunk.rates.entries):
        for length in (1, 2, 3):
            code = prefix[:length]
            if len(code) == length and region_code_for_country_code(int(code)) != "ZZ":
                return length
    return 0


def lcr_sql(trunks: Iterable[Trunk], quality: Mapping[str, TrunkQuality] | None = None) -> str:
    """mod_lcr rows; ``quality`` is the rolling ASR, ``reliability`` 1 - PDD in minutes."""
    quality = quality or {}
    carriers = []
    for carrier_id, t in enumerate(sorted(trunks, key=lambda t: t.name), start=1):
        q = quality.get(t.name, TrunkQuality())
        national = t.number_format is NumberFormat.NATIONAL
        carriers.append(
            {
                "id": carrier_id,
                "name": t.name,
                "enabled": "true" if t.enabled and t.weight > 0 else "false",
                "gateway_prefix": f"sofia/gateway/{t.name}/",
                "callee_prefix": t.callee_prefix,
                # National dialling drops the country code; mod_lcr strips it (lead_strip).
                "lead_strip": _country_code_digits(t) if national else 0,
                "quality": f"{q.asr:.6f}",
                "reliability": f"{max(0.0, 1 - q.pdd_ms / 60000):.6f}",
                "cid": t.caller_id.numbers[0] if t.caller_id.numbers else "",
                "rates": [
                    {"prefix": r.prefix, "rate_per_min": _decimal(r.rate_per_min)}
                    for r in sorted(t.rates.entries.values())
                ],
            }
        )
    return _ENV.get_template("lcr.sql.j2").render(carriers=carriers)


def write_all(trunks: Iterable[Trunk], out_dir: Path, node: str | None = None) -> list[Path]:
    """Write every file under ``out_dir`` (laid out as FreeSWITCH's conf dir); returns paths.

    With ``node``, only the trunks served by that FreeSWITCH node (``fs_nodes`` empty = all).
    """
    trunk_list = [t for t in trunks if node is None or not t.fs_nodes or node in t.fs_nodes]
    written: list[Path] = []
    gateways = out_dir / "sip_profiles" / "external"
    gateways.mkdir(parents=True, exist_ok=True)
    for t in trunk_list:
        path = gateways / f"{t.name}.xml"
        path.write_text(gateway_xml(t), encoding="utf-8")
        written.append(path)
    autoload = out_dir / "autoload_configs"
    autoload.mkdir(parents=True, exist_ok=True)
    dist = autoload / "distributor.conf.xml"
    dist.write_text(distributor_xml(trunk_list), encoding="utf-8")
    lcr = out_dir / "lcr.sql"
    lcr.write_text(lcr_sql(trunk_list), encoding="utf-8")
    return [*written, dist, lcr]
