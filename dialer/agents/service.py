"""Agents: the database is the truth, every node's mod_callcenter is made to match it.

Changes (`add_agent`, `add_tier`, `remove_tier`, `remove_agent`) are checked first (values,
the database, the queues each node lists), then applied on every node, and written to the
database last. `add_agent` and `add_tier` are all or nothing: when a step fails on any node,
what was applied is undone (``agent del`` takes the agent's tiers with it, ``tier del``) and
the database is left as it was; the `AgentError` carries the switch's reason. A removal that
fails on a node leaves the database as it was too: the nodes where it was done get the agent
or tier back at the next sync (`sync_node`, run by each node's listener after every
(re)connect and by ``dialer agents sync``), so the database stays the truth.

A status (`set_status`: login, ready, break, logout) is no configuration: it is set on every
node in turn and kept by the switch alone. Refusals are typed for the API
(`AgentNotFound`, `AgentExists`, `TierNotFound`, `QueueNotFound`, all `AgentError`s, whose
text is the CLI's line); `record_problems` names each bad value of a new agent. The listings
(`agent_lines` for the CLI, `agent_views` for the API) read each node's agents the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from dialer import agent_admin
from dialer.agent_admin import AgentError, AgentNotFound
from dialer.agent_state import AgentState
from dialer.agents.ports import AgentRecord, AgentStore, Tier
from dialer.agents.sync import parse_queue_names, parse_switch_agents, sync_commands
from dialer.esl.ports import EslConnection, EslError
from dialer.listener.switch_state import parse_agent_list, parse_tier_list

log = logging.getLogger(__name__)

Step = tuple[str, str | None]
"""A command, and the command that undoes it (None: undone with an earlier step's undo)."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a sync ran on one node: the commands applied, and the errors of those that
    failed (each ``node: command: reply``)."""

    node: str
    applied: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentLine:
    """One agent on one node, as ``dialer agents list`` prints it."""

    node: str
    name: str
    contact: str
    queues: str
    status: str
    state: str


class AgentExists(AgentError):
    """An agent added under a name the database holds already."""


class TierNotFound(AgentError):
    """An agent without a tier in the queue named."""


class QueueNotFound(AgentError):
    """A tier in a queue a node does not list."""


def _problem(check: Callable[[], object]) -> str | None:
    try:
        check()
    except AgentError as exc:
        return str(exc)
    return None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an agent's name in a command (None: it can)."""
    return _problem(lambda: agent_admin.check_name(name))


def tier_problem(tier: Tier) -> str | None:
    """Why ``tier`` cannot be carried by a command (None: it can)."""
    return _problem(lambda: agent_admin.check_tier(tier))


def check_record(record: AgentRecord) -> AgentRecord:
    """``record`` when every value can be carried by a command; else `AgentError` with the
    first problem (`record_problems`)."""
    problems = record_problems(record)
    if problems:
        raise AgentError(problems[0][1])
    return record


def record_problems(record: AgentRecord) -> list[tuple[str, str]]:
    """Each value of ``record`` no command may carry, as (field, why): ``name``,
    ``contact``, ``tiers.N`` (the N-th tier, from 0), ``tiers`` (two in one queue). Pure;
    nothing is asked of a node."""
    found = [
        ("name", name_problem(record.name)),
        ("contact", _problem(lambda: agent_admin.check_contact(record.contact))),
        *((f"tiers.{i}", tier_problem(t)) for i, t in enumerate(record.tiers)),
    ]
    if len({t.queue for t in record.tiers}) != len(record.tiers):
        found.append(("tiers", "one tier per queue"))
    return [(field, why) for field, why in found if why is not None]


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """An agent on one node: mod_callcenter's ``status`` and ``state``; ``?`` when the node
    could not be read; when the node's list lacks the agent, the reader's word for it
    (``not on the switch``) and state ``-``. ``since_s``: when the agent entered that status
    and state (epoch seconds, as the listener saw it), None when not known."""

    node: str
    status: str
    state: str
    since_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent with its status on every node: ``record`` None for an agent only a switch
    has (not in the database)."""

    name: str
    record: AgentRecord | None
    nodes: tuple[NodeStatus, ...]


def _api(conn: EslConnection, command: str, timeout_s: float) -> str:
    return agent_admin.apply(conn, [command], timeout_s)[0]


def check_queues(conns: Sequence[EslConnection], tiers: Sequence[Tier], timeout_s: float) -> None:
    """`AgentError` naming the first node that lists none of a tier's queue."""
    if not tiers:
        return
    for conn in conns:
        queues = parse_queue_names(_api(conn, agent_admin.QUEUE_LIST_COMMAND, timeout_s))
        for tier in tiers:
            if tier.queue not in queues:
                raise QueueNotFound(
                    f"{conn.node}: no queue {tier.queue} on the switch (callcenter_config "
                    "queue list); queues come from callcenter.conf.xml (dialer fsconf render)"
                )


def _undo(done: list[tuple[EslConnection, str]], timeout_s: float) -> list[str]:
    """Run the undo commands, newest first; the ones that failed."""
    failed = []
    for conn, command in reversed(done):
        try:
            _api(conn, command, timeout_s)
        except (AgentError, EslError) as exc:
            log.warning("agents: undo failed: %s", exc)
            failed.append(f"{conn.node}: {command}")
    return failed


def _all_or_nothing(
    conns: Sequence[EslConnection],
    steps: Sequence[Step],
    commit: Callable[[], None],
    timeout_s: float,
) -> None:
    """``steps`` on every node, then ``commit``; on any failure, undo and `AgentError`."""
    done: list[tuple[EslConnection, str]] = []
    try:
        for conn in conns:
            for command, undo in steps:
                _api(conn, command, timeout_s)
                if undo is not None:
                    done.append((conn, undo))
        commit()
    except (AgentError, EslError) as exc:
        left = _undo(done, timeout_s)
        suffix = f"; not undone, run by hand: {', '.join(left)}" if left else ""
        raise AgentError(f"{exc}{suffix}") from None
    except BaseException:
        _undo(done, timeout_s)
        raise


def _steps_of_add(record: AgentRecord) -> list[Step]:
    name = record.name
    steps: list[Step] = []
    for command in agent_admin.add_commands(name, record.contact):
        undo = agent_admin.agent_del_command(name) if not steps else None
        steps.append((command, undo))
    steps += [(agent_admin.tier_add_command(name, t), None) for t in record.tiers]
    return steps


def add_agent(
    store: AgentStore,
    conns: Sequence[EslConnection],
    record: AgentRecord,
    timeout_s: float = 5.0,
) -> None:
    """Add the agent (``Logged Out``) and its tiers on every node, then to the database."""
    record = record.with_tiers(record.tiers)
    steps = _steps_of_add(record)  # refuses bad values before any node is asked
    if store.get(record.name) is not None:
        raise AgentExists(f"agent {record.name} exists already (dialer agents list)")
    check_queues(conns, record.tiers, timeout_s)
    _all_or_nothing(conns, steps, lambda: store.put(record), timeout_s)


def require_agent(store: AgentStore, name: str) -> AgentRecord:
    """The agent the database holds; `AgentNotFound` when it holds none."""
    record = store.get(agent_admin.check_name(name))
    if record is None:
        raise AgentNotFound(f"no agent {name} in the database (dialer agents list)")
    return record


def _tier_of(record: AgentRecord, queue: str) -> Tier:
    tier = record.tier(queue)
    if tier is None:
        raise TierNotFound(f"agent {record.name} has no tier in {queue}")
    return tier


def require_tier(store: AgentStore, name: str, queue: str) -> Tier:
    """The agent's tier in ``queue``; `AgentNotFound` without the agent, `TierNotFound`
    without the tier."""
    return _tier_of(require_agent(store, name), queue)


def add_tier(
    store: AgentStore,
    conns: Sequence[EslConnection],
    name: str,
    tier: Tier,
    timeout_s: float = 5.0,
) -> None:
    """Add the agent's tier in ``tier.queue`` on every node, then to the database."""
    step = (
        agent_admin.tier_add_command(name, tier),
        agent_admin.tier_del_command(name, tier.queue),
    )
    record = require_agent(store, name)
    if record.tier(tier.queue) is not None:
        raise AgentError(f"agent {name} has a tier in {tier.queue} already")
    check_queues(conns, [tier], timeout_s)
    updated = record.with_tiers((*record.tiers, tier))
    _all_or_nothing(conns, [step], lambda: store.put(updated), timeout_s)


def remove_tier(
    store: AgentStore,
    conns: Sequence[EslConnection],
    name: str,
    queue: str,
    timeout_s: float = 5.0,
) -> None:
    """Delete the agent's tier in ``queue`` on every node, then from the database."""
    command = agent_admin.tier_del_command(name, queue)
    record = require_agent(store, name)
    _tier_of(record, queue)
    for conn in conns:
        _api(conn, command, timeout_s)
    store.put(record.with_tiers(tuple(t for t in record.tiers if t.queue != queue)))


def remove_agent(
    store: AgentStore, conns: Sequence[EslConnection], name: str, timeout_s: float = 5.0
) -> None:
    """Delete the agent (and its tiers) on every node, then from the database."""
    command = agent_admin.agent_del_command(name)
    require_agent(store, name)
    for conn in conns:
        _api(conn, command, timeout_s)
    store.remove(name)


def set_status(
    conns: Sequence[EslConnection],
    name: str,
    verb: str,
    timeout_s: float = 5.0,
    on_api_call: Callable[[str], bool] | None = None,
) -> str:
    """``login`` / ``ready`` / ``break`` / ``logout`` the agent on every node in turn
    (`dialer.agent_admin.set_status`); the status it now has. Values are checked before any
    node is asked; the first node that refuses is the `AgentError` (a status is no
    configuration: nothing is undone, the next change sets it again). An agent
    ``on_api_call`` (its phone is on an API call) made ``ready`` stays held from queue calls
    until that call ended (`dialer.apicalls.holds`)."""
    agent_admin.check_name(name)
    status = agent_admin.VERB_STATUS.get(verb)
    if status is None:
        raise AgentError(f"unknown agent action {verb!r} (login, ready, break, logout)")
    held = status == agent_admin.STATUS_AVAILABLE and on_api_call is not None and on_api_call(name)
    for conn in conns:
        agent_admin.set_status(conn, name, verb, timeout_s, held)
    return status


def sync_node(store: AgentStore, conn: EslConnection, timeout_s: float = 10.0) -> SyncResult:
    """Make ``conn``'s node hold the database's agents and tiers (`dialer.agents.sync`);
    a command that fails is reported and the others still run. `EslError` when the node
    cannot be read."""
    seen = parse_switch_agents(
        _api(conn, agent_admin.AGENT_LIST_COMMAND, timeout_s),
        _api(conn, agent_admin.TIER_LIST_COMMAND, timeout_s),
    )
    applied, failed = [], []
    for command in sync_commands(store.all(), seen):
        try:
            _api(conn, command, timeout_s)
            applied.append(command)
        except AgentError as exc:
            failed.append(str(exc))
    return SyncResult(conn.node, tuple(applied), tuple(failed))


def node_agents(conn: EslConnection, timeout_s: float = 5.0) -> list[AgentState]:
    """The agents ``conn``'s node lists, each with its queues."""
    agents = parse_agent_list(_api(conn, agent_admin.AGENT_LIST_COMMAND, timeout_s))
    tiers = parse_tier_list(_api(conn, agent_admin.TIER_LIST_COMMAND, timeout_s))
    return [replace(a, queues=tiers.get(a.name, ())) for a in agents]


def _tier_text(tiers: Sequence[Tier]) -> str:
    return ", ".join(f"{t.queue} {t.level}/{t.position}" for t in tiers) or "-"


NOT_ON_THE_SWITCH = "not on the switch"


def _status_on(
    listed: Sequence[AgentState] | None, name: str, absent: str = NOT_ON_THE_SWITCH
) -> tuple[str, str, float | None]:
    if listed is None:
        return "?", "?", None
    agent = next((a for a in listed if a.name == name), None)
    if agent is None:
        return absent, "-", None
    return agent.status, agent.state, agent.changed_at_s or None


def _only_on_switch(
    records: Sequence[AgentRecord], listed: Sequence[AgentState] | None
) -> list[AgentState]:
    known = {r.name for r in records}
    return sorted((a for a in listed or () if a.name not in known), key=lambda a: a.name)


def agent_lines(
    records: Sequence[AgentRecord], per_node: Mapping[str, Sequence[AgentState] | None]
) -> list[AgentLine]:
    """Per node: every agent of the database (status and state ``?`` when the node could not
    be read, ``not on the switch`` when it lacks the agent), then the agents only the switch
    has (contact ``not in the database``)."""
    lines = []
    for node, listed in per_node.items():
        for r in records:
            status, state, _ = _status_on(listed, r.name)
            lines.append(AgentLine(node, r.name, r.contact, _tier_text(r.tiers), status, state))
        for a in _only_on_switch(records, listed):
            queues = ", ".join(a.queues) or "-"
            lines.append(AgentLine(node, a.name, "not in the database", queues, a.status, a.state))
    return lines


def agent_views(
    records: Sequence[AgentRecord],
    per_node: Mapping[str, Sequence[AgentState] | None],
    absent: str = NOT_ON_THE_SWITCH,
) -> list[AgentView]:
    """Every agent of the database with its status on each node (as `agent_lines` reads
    it; ``absent`` the status of an agent a node's list lacks), then the agents only a
    switch has, by name."""

    def on_nodes(name: str) -> tuple[NodeStatus, ...]:
        return tuple(NodeStatus(n, *_status_on(a, name, absent)) for n, a in per_node.items())

    extra = {a.name for listed in per_node.values() for a in _only_on_switch(records, listed)}
    return [AgentView(r.name, r, on_nodes(r.name)) for r in records] + [
        AgentView(name, None, on_nodes(name)) for name in sorted(extra)
    ]
