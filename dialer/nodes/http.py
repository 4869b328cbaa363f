"""``GET /v1/nodes/{node}/gateways`` and ``.../extensions`` (managers): what a node reports
now, thin over `dialer.nodes.service`. An unknown node is a 404, one that cannot be reached a
503, a reply that is not what FreeSWITCH prints a 502."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.esl.ports import EslError
from dialer.http_problems import Problem
from dialer.nodes.ports import NodeApi
from dialer.nodes.switch_state import gateways, registrations
from dialer.routing.service import load_trunks

__all__ = ["NodesApi", "nodes_router"]


@dataclass(frozen=True)
class NodesApi:
    """``nodes`` built on first use (a process that never asks opens nothing)."""

    nodes: Callable[[], NodeApi]
    sessions: sessionmaker[Session]


class GatewayOut(BaseModel):
    name: str
    known: bool
    status: str
    state: str
    ping_time_ms: float | None
    calls_out: int | None
    failed_calls_out: int | None
    uptime_s: int | None


class GatewaysOut(BaseModel):
    node: str
    gateways: list[GatewayOut]


class ExtensionsOut(BaseModel):
    node: str
    count: int
    registrations: list[dict[str, str]]


@contextmanager
def _asking(api: NodeApi, node: str) -> Iterator[None]:
    if node not in api.names():
        raise Problem(404, f"no FreeSWITCH node named {node!r}", [
            {"field": "path.node", "detail": "not in DIALER_FREESWITCH_NODES"}])  # fmt: skip
    try:
        yield
    except EslError as exc:
        raise Problem(503, str(exc) or type(exc).__name__) from None
    except ValueError as exc:
        raise Problem(502, f"{node}: {exc}") from None


def nodes_router(auth: KeyAuth, api: NodesApi) -> APIRouter:
    router = APIRouter(tags=["nodes"])
    manager = auth.require(Role.MANAGER)

    @router.get("/nodes/{node}/gateways", response_model=GatewaysOut)
    def node_gateways(
        node: str = Path(max_length=100), key: ApiKey = Depends(manager)
    ) -> GatewaysOut:
        """Each trunk the node serves, as its gateway's ``sofia status gateway`` says:
        ``status`` UP/DOWN, registration ``state``, ping time, calls out, failed calls out,
        uptime; ``known`` false when the node has no such gateway (not rendered or loaded)."""
        nodes = api.nodes()
        with _asking(nodes, node):
            with api.sessions() as session:
                trunks = load_trunks(session, with_rates=False)
            names = sorted(t.name for t in trunks if not t.fs_nodes or node in t.fs_nodes)
            states = gateways(nodes, node, names)
        return GatewaysOut(node=node, gateways=[GatewayOut(**asdict(s)) for s in states])

    @router.get("/nodes/{node}/extensions", response_model=ExtensionsOut)
    def node_extensions(
        node: str = Path(max_length=100), key: ApiKey = Depends(manager)
    ) -> ExtensionsOut:
        """The SIP registrations the node holds (``show registrations``), each row with the
        columns FreeSWITCH gives it."""
        nodes = api.nodes()
        with _asking(nodes, node):
            found = registrations(nodes, node)
        return ExtensionsOut(node=node, count=found.count, registrations=list(found.rows))

    return router
