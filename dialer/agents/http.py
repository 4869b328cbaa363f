"""``/v1/agents``: agents and tiers (manager keys) and an agent's status (manager keys, or an
agent key acting on itself): thin over `dialer.agents.service`, the functions
``dialer agents ...`` calls, over one connection to each configured node.

Every change is made on every node as the CLI makes it: all connections are opened first,
so a node that cannot be reached is a 503 naming it (the CLI's one line) with no node and
nothing in the database touched; adding an agent or a tier is all or nothing across the
nodes and the database. The status and state read back are the listener's (the live state
it writes to Redis from mod_callcenter's events and its reconciles): ``?`` for a node whose
state could not be read, ``not seen by the listener`` for an agent its state lacks.
Handlers are plain functions, run in FastAPI's thread pool (the Event Socket, the database
and Redis clients block).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import redis
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from dialer.agent_admin import AgentError, AgentNotFound
from dialer.agent_state import AgentState
from dialer.agents import service
from dialer.agents.ports import AgentRecord, AgentStore, Tier
from dialer.agents.service import AgentExists, AgentView, QueueNotFound, TierNotFound
from dialer.agents.wiring import every_node
from dialer.apikeys.http import KeyAuth, ensure_self
from dialer.apikeys.ports import ApiKey, Role
from dialer.config import FsNode
from dialer.esl.ports import EslClientKind, EslConnection, EslError
from dialer.http_problems import FieldError, Problem
from dialer.listener.ports import LiveState

__all__ = ["AgentsApi", "agents_router"]

_LIVE_ERRORS = (redis.RedisError, OSError)
# an agent the listener's live state of a node lacks (not on the switch as of its last
# reconcile, or added since and not yet changed)
NOT_SEEN = "not seen by the listener"


@dataclass(frozen=True)
class AgentsApi:
    """What the routes need: the agents' store, the nodes (and the Event Socket client kind)
    changes are made on, and the listener's live state (built on first use)."""

    store: AgentStore
    nodes: Sequence[FsNode]
    esl_client: EslClientKind
    live: Callable[[], LiveState]
    # whether the agent is on an API call (then ``ready`` keeps it from queue calls)
    on_api_call: Callable[[str], bool] | None = None


class TierIn(BaseModel):
    """A place in a queue: calls are offered by level, then position (lower first)."""

    model_config = ConfigDict(extra="forbid")

    queue: str = Field(description="the mod_callcenter queue, e.g. sales@default")
    level: int = Field(1, ge=0)
    position: int = Field(1, ge=0)


class AgentIn(BaseModel):
    """A new agent; it starts Logged Out."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="e.g. 1001@default")
    contact: str = Field(description="dial string of the agent's phone, e.g. user/1001")
    tiers: list[TierIn] = Field(default_factory=list, description="one per queue")


class StatusIn(BaseModel):
    """``login`` (On Break), ``ready`` (Available, Waiting), ``break`` (On Break),
    ``logout`` (Logged Out)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["login", "ready", "break", "logout"]


class NodeStatusOut(BaseModel):
    node: str
    status: str
    state: str
    since: datetime | None = Field(
        default=None, description="when the agent entered this status and state (if known)"
    )


class TierOut(BaseModel):
    queue: str
    level: int
    position: int


class AgentOut(BaseModel):
    """An agent: from the database (``in_database`` False: only a switch has it, no contact
    known) with its status and state on each node as the listener sees them."""

    name: str
    in_database: bool
    contact: str | None
    tiers: list[TierOut]
    nodes: list[NodeStatusOut]


class StatusOut(BaseModel):
    """The status every node was told to set (mod_callcenter's word)."""

    agent: str
    status: str


def _out(view: AgentView) -> AgentOut:
    record = view.record
    return AgentOut(
        name=view.name,
        in_database=record is not None,
        contact=None if record is None else record.contact,
        tiers=[TierOut(queue=t.queue, level=t.level, position=t.position) for t in record.tiers]
        if record is not None
        else [],
        nodes=[
            NodeStatusOut(
                node=n.node,
                status=n.status,
                state=n.state,
                since=None if n.since_s is None else datetime.fromtimestamp(n.since_s, UTC),
            )
            for n in view.nodes
        ],
    )


@contextmanager
def _refusals(queue_field: str = "body.tiers") -> Iterator[None]:
    """The service's refusals as problem documents: a node lost midway 503, an unknown agent
    or tier 404, an agent that exists 409, a queue no node has 422, a switch's refusal 409."""
    try:
        yield
    except EslError as exc:  # a node lost after some commands were sent
        detail = f"{exc}; the change may be made on some nodes only: send it again"
        raise Problem(503, detail) from None
    except (AgentNotFound, TierNotFound) as exc:
        raise Problem(404, str(exc)) from None
    except AgentExists as exc:
        raise Problem(409, str(exc), [{"field": "body.name", "detail": str(exc)}]) from None
    except QueueNotFound as exc:
        raise Problem(422, str(exc), [{"field": queue_field, "detail": str(exc)}]) from None
    except AgentError as exc:
        raise Problem(409, str(exc)) from None


def _invalid(problems: Sequence[tuple[str, str]]) -> None:
    if problems:
        errors: list[FieldError] = [{"field": f"body.{f}", "detail": d} for f, d in problems]
        raise Problem(422, f"the agent is not valid: {problems[0][1]}", errors)


def _checked(name: str) -> None:
    problem = service.name_problem(name)
    if problem is not None:
        raise Problem(422, problem, [{"field": "path.name", "detail": problem}])


def agents_router(auth: KeyAuth, api: AgentsApi) -> APIRouter:
    router = APIRouter(tags=["agents"])
    manager = auth.require(Role.MANAGER)
    manager_or_agent = auth.require(Role.MANAGER, Role.AGENT)

    def per_node() -> Mapping[str, Sequence[AgentState] | None]:
        try:
            live = api.live()
            return {n.name: list(live.agents(n.name).values()) for n in api.nodes}
        except _LIVE_ERRORS:
            return {n.name: None for n in api.nodes}

    def view_of(name: str) -> AgentOut:
        record = api.store.get(name)
        views = service.agent_views([record] if record else [], per_node(), NOT_SEEN)
        found = next((v for v in views if v.name == name), None)
        if found is None:
            raise Problem(404, f"no agent {name} in the database or on any node")
        return _out(found)

    @contextmanager
    def connections() -> Iterator[list[EslConnection]]:
        """A connection to every node, or a 503 naming the first that cannot be reached
        (no command has been sent to any node then)."""
        with ExitStack() as stack:
            try:
                conns = stack.enter_context(every_node(api.esl_client, api.nodes))
            except EslError as exc:
                raise Problem(503, f"{exc}; nothing was changed on any node") from None
            yield conns

    @router.get("/agents", response_model=list[AgentOut])
    def list_agents(key: ApiKey = Depends(manager)) -> list[AgentOut]:
        """Every agent with its contact, tiers and, per node, status and state (``dialer
        agents list``, read from the listener's live state)."""
        return [_out(v) for v in service.agent_views(api.store.all(), per_node(), NOT_SEEN)]

    @router.post("/agents", response_model=AgentOut, status_code=201)
    def create_agent(body: AgentIn, key: ApiKey = Depends(manager)) -> AgentOut:
        """Add an agent (Logged Out) and its tiers on every node, then in the database; all
        or nothing (``dialer agents add``)."""
        tiers = tuple(Tier(t.queue, t.level, t.position) for t in body.tiers)
        record = AgentRecord(body.name, body.contact, tiers)
        _invalid(service.record_problems(record))
        with _refusals(), connections() as conns:
            service.add_agent(api.store, conns, record)
        return view_of(body.name)

    @router.get("/agents/{name}", response_model=AgentOut)
    def read_agent(name: str, key: ApiKey = Depends(manager_or_agent)) -> AgentOut:
        """One agent (an agent key: only itself)."""
        ensure_self(key, name)
        _checked(name)
        return view_of(name)

    @router.delete("/agents/{name}", status_code=204)
    def delete_agent(name: str, key: ApiKey = Depends(manager)) -> Response:
        """Delete the agent and its tiers on every node, then from the database (``dialer
        agents remove``)."""
        _checked(name)
        with _refusals():
            service.require_agent(api.store, name)
            with connections() as conns:
                service.remove_agent(api.store, conns, name)
        return Response(status_code=204)

    @router.post("/agents/{name}/tiers", response_model=AgentOut, status_code=201)
    def add_tier(name: str, body: TierIn, key: ApiKey = Depends(manager)) -> AgentOut:
        """Put the agent in a queue on every node, then in the database; all or nothing
        (``dialer agents tier add``)."""
        tier = Tier(body.queue, body.level, body.position)
        _checked(name)
        problem = service.tier_problem(tier)
        _invalid([("queue", problem)] if problem else [])
        with _refusals("body.queue"):
            service.require_agent(api.store, name)
            with connections() as conns:
                service.add_tier(api.store, conns, name, tier)
        return view_of(name)

    @router.delete("/agents/{name}/tiers/{queue}", status_code=204)
    def remove_tier(name: str, queue: str, key: ApiKey = Depends(manager)) -> Response:
        """Take the agent out of a queue on every node, then in the database (``dialer
        agents tier remove``)."""
        _checked(name)
        problem = service.tier_problem(Tier(queue))
        if problem is not None:
            raise Problem(422, problem, [{"field": "path.queue", "detail": problem}])
        with _refusals():
            service.require_tier(api.store, name, queue)
            with connections() as conns:
                service.remove_tier(api.store, conns, name, queue)
        return Response(status_code=204)

    @router.post("/agents/{name}/status", response_model=StatusOut)
    def set_status(name: str, body: StatusIn, key: ApiKey = Depends(manager_or_agent)) -> StatusOut:
        """Log in, ready, break or log out, on every node through ``callcenter_config agent
        set status`` (``dialer agents login|ready|break|logout``); an agent key only itself."""
        ensure_self(key, name)
        _checked(name)
        with _refusals(), connections() as conns:
            status = service.set_status(conns, name, body.status, on_api_call=api.on_api_call)
        return StatusOut(agent=name, status=status)

    return router
