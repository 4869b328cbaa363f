"""A node's gateways and registrations (``GET /v1/nodes/{node}/...``), read from the replies
transcript x shows, over the `NodeApi` port.

- ``sofia status gateway NAME``: ``Key<TAB>value`` lines between two rules (transcript x:
  ``Status UP``, ``State NOREG``, ``PingTime``, ``CallsOUT``, ``FailedCallsOUT``, ``Uptime
  250s``), or ``Invalid Gateway!`` (no ``-ERR``) for one the node does not have;
- ``show registrations as json``: FreeSWITCH's ``show`` table as JSON, ``{"row_count": 0}``
  when empty (transcript f for ``show channels``; x shows the empty plain reply of
  ``show registrations``); each row is passed on with the columns FreeSWITCH gives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from dialer.nodes.ports import NodeApi

__all__ = ["GatewayState", "Registrations", "gateway_state", "gateways", "registrations"]

INVALID_GATEWAY = "Invalid Gateway!"


@dataclass(frozen=True, slots=True)
class GatewayState:
    """One gateway as the node reports it; ``status`` ``UP``/``DOWN``, ``known`` False when
    the node has no such gateway (the other fields are then empty)."""

    name: str
    known: bool
    status: str = ""
    state: str = ""
    ping_time_ms: float | None = None
    calls_out: int | None = None
    failed_calls_out: int | None = None
    uptime_s: int | None = None


@dataclass(frozen=True, slots=True)
class Registrations:
    count: int
    rows: tuple[dict[str, str], ...]


def _int(text: str | None, suffix: str = "") -> int | None:
    text = (text or "").removesuffix(suffix)
    return int(text) if text.isdigit() else None


def gateway_state(name: str, reply: str) -> GatewayState:
    if reply.strip() == INVALID_GATEWAY:
        return GatewayState(name, False)
    fields: dict[str, str] = {}
    for line in reply.splitlines():
        key, sep, value = line.partition("\t")
        if sep:
            fields[key.strip()] = value.strip()
    if "Status" not in fields:
        raise ValueError(f"not a gateway status: {reply[:80]!r}")
    try:
        ping: float | None = float(fields.get("PingTime", ""))
    except ValueError:
        ping = None
    return GatewayState(
        name=name,
        known=True,
        status=fields["Status"],
        state=fields.get("State", ""),
        ping_time_ms=ping,
        calls_out=_int(fields.get("CallsOUT")),
        failed_calls_out=_int(fields.get("FailedCallsOUT")),
        uptime_s=_int(fields.get("Uptime"), "s"),
    )


def gateways(api: NodeApi, node: str, names: Iterable[str]) -> list[GatewayState]:
    """The status of each gateway ``names`` on ``node`` (one ``sofia status gateway`` each)."""
    return [gateway_state(n, api.api(node, f"sofia status gateway {n}")) for n in names]


def parse_registrations(reply: str) -> Registrations:
    data = json.loads(reply)
    if not isinstance(data, dict) or "row_count" not in data:
        raise ValueError(f"not a show table: {reply[:80]!r}")
    rows = tuple({str(k): str(v) for k, v in row.items()} for row in data.get("rows", []) or [])
    return Registrations(int(data["row_count"]), rows)


def registrations(api: NodeApi, node: str) -> Registrations:
    """The SIP registrations ``node`` holds (its registered extensions)."""
    return parse_registrations(api.api(node, "show registrations as json"))
