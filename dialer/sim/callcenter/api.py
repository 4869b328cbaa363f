"""``callcenter_config`` (cc_config_api_function of mod_callcenter.c) over the `Store`.

Replies are byte-for-byte FreeSWITCH's (``m_callcenter_config_api.results.txt``); an empty
reply is what the Event Socket turns into ``-ERR no reply``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.rows import (
    AgentRow,
    LoadedQueue,
    MemberRow,
    Status,
    TierRow,
    columns,
    row_values,
)
from dialer.sim.callcenter.store import Store

__all__ = ["ConfigApi"]

_USAGE = (
    "callcenter_config <target> <args>,\n"
    "\tcallcenter_config agent add [name] [type] | \n"
    "\tcallcenter_config agent del [name] | \n"
    "\tcallcenter_config agent reload [name] | \n"
    "\tcallcenter_config agent set status [agent_name] [status] | \n"
    "\tcallcenter_config agent set state [agent_name] [state] | \n"
    "\tcallcenter_config agent set contact [agent_name] [contact] | \n"
    "\tcallcenter_config agent set ready_time [agent_name] [wait till epoch] | \n"
    "\tcallcenter_config agent set reject_delay_time [agent_name] [wait second] | \n"
    "\tcallcenter_config agent set busy_delay_time [agent_name] [wait second] | \n"
    "\tcallcenter_config agent set no_answer_delay_time [agent_name] [wait second] | \n"
    "\tcallcenter_config agent get status [agent_name] | \n"
    "\tcallcenter_config agent get state [agent_name] | \n"
    "\tcallcenter_config agent get uuid [agent_name] | \n"
    "\tcallcenter_config agent list [[agent_name]] | \n"
    "\tcallcenter_config tier add [queue_name] [agent_name] [[level]] [[position]] | \n"
    "\tcallcenter_config tier set state [queue_name] [agent_name] [state] | \n"
    "\tcallcenter_config tier set level [queue_name] [agent_name] [level] | \n"
    "\tcallcenter_config tier set position [queue_name] [agent_name] [position] | \n"
    "\tcallcenter_config tier del [queue_name] [agent_name] | \n"
    "\tcallcenter_config tier reload [queue_name] [agent_name] | \n"
    "\tcallcenter_config tier list | \n"
    "\tcallcenter_config queue load [queue_name] | \n"
    "\tcallcenter_config queue unload [queue_name] | \n"
    "\tcallcenter_config queue reload [queue_name] | \n"
    "\tcallcenter_config queue list | \n"
    "\tcallcenter_config queue list agents [queue_name] [status] [state] | \n"
    "\tcallcenter_config queue list members [queue_name] | \n"
    "\tcallcenter_config queue list tiers [queue_name] | \n"
    "\tcallcenter_config queue count | \n"
    "\tcallcenter_config queue count agents [queue_name] [status] [state] | \n"
    "\tcallcenter_config queue count members [queue_name] | \n"
    "\tcallcenter_config queue count tiers [queue_name]"
)

_INVALID = "-ERR Invalid!\n"
_OK = "+OK\n"
_UNKNOWN = "-ERR Unknown Error!\n"

_QUEUE_COLUMNS = (
    "name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|"
    "tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|"
    "abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|"
    "max_wait_time_with_no_agent_time_reached|record_template|calls_answered|calls_abandoned|"
    "ring_progressively_delay|skip_agents_with_external_calls|agent_no_answer_status\n"
)

_AGENT_SET_ERRORS = {
    Status.AGENT_INVALID_STATUS: "-ERR Invalid Agent Status!\n",
    Status.AGENT_INVALID_STATE: "-ERR Invalid Agent State!\n",
    Status.AGENT_INVALID_TYPE: "-ERR Invalid Agent Type!\n",
    Status.INVALID_KEY: "-ERR Invalid Agent Update KEY!\n",
    Status.AGENT_NOT_FOUND: "-ERR Agent not found!\n",
}
_TIER_ADD_ERRORS = {
    Status.QUEUE_NOT_FOUND: "-ERR Queue not found!\n",
    Status.TIER_INVALID_STATE: "-ERR Invalid Tier State!\n",
    Status.AGENT_NOT_FOUND: "-ERR Agent not found!\n",
    Status.TIER_ALREADY_EXIST: "-ERR Tier already exist!\n",
}
_TIER_SET_ERRORS = {
    Status.AGENT_INVALID_STATUS: "-ERR Invalid Agent Status!\n",
    Status.TIER_INVALID_STATE: "-ERR Invalid Tier State!\n",
    Status.INVALID_KEY: "-ERR Invalid Tier Update KEY!\n",
    Status.AGENT_NOT_FOUND: "-ERR Agent not found!\n",
    Status.QUEUE_NOT_FOUND: "-ERR Agent not found!\n",
}


def _table(rows: Sequence[AgentRow | TierRow | MemberRow], extra: tuple[str, ...] = ()) -> str:
    """``list_result_callback`` output: header line only when there are rows, then ``+OK``."""
    if not rows:
        return _OK
    head = "|".join(columns(type(rows[0])) + list(extra)) + "\n"
    return head + "".join("|".join(row_values(r)) + "\n" for r in rows) + _OK


def _member_rows(store: Store, queue: str | None) -> str:
    now = store.now_s()
    members = [m for m in store.members.values() if queue is None or m.queue == queue]
    keyed = sorted(
        enumerate(members),
        key=lambda im: ((im[1].queue if queue is None else ""), -im[1].score(now), im[0]),
    )
    if not keyed:
        return _OK
    head = "|".join([*columns(MemberRow), "score"]) + "\n"
    body = "".join("|".join([*row_values(m), str(m.score(now))]) + "\n" for _, m in keyed)
    return head + body + _OK


class ConfigApi:
    """Parses ``callcenter_config`` arguments and answers like FreeSWITCH."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, cmd: str) -> str:
        if not cmd:
            return f"-USAGE: \n{_USAGE}\n"
        argv = t.split_config_args(cmd, 8)
        if len(argv) < 2:
            return _INVALID
        section, action, rest = argv[0].lower(), argv[1].lower(), argv[2:]
        handler = {"agent": self._agent, "tier": self._tier, "queue": self._queue}.get(section)
        return handler(action, rest) if handler else ""

    # -- agent ------------------------------------------------------------------------------
    def _agent(self, action: str, args: list[str]) -> str:
        store = self.store
        if action == "add":
            if len(args) < 2:
                return _INVALID
            res = store.agent_add(args[0], args[1])
            return {
                Status.SUCCESS: _OK,
                Status.AGENT_ALREADY_EXIST: "-ERR Agent already exist!\n",
                Status.AGENT_INVALID_TYPE: "-ERR Agent type invalid!\n",
            }.get(res, _UNKNOWN)
        if action == "del":
            if len(args) < 1:
                return _INVALID
            store.agent_del(args[0])
            return _OK
        if action == "reload":
            if len(args) < 1:
                return _INVALID
            for cfg in store.xml.agents:
                if cfg.name == args[0]:
                    store.load_agent(cfg)
            return _OK
        if action == "set":
            if len(args) < 3:
                return _INVALID
            res = store.agent_update(args[0], args[2], args[1])
            return _OK if res == Status.SUCCESS else _AGENT_SET_ERRORS.get(res, _UNKNOWN)
        if action == "get":
            if len(args) < 2:
                return _INVALID
            res, value = store.agent_get(args[0], args[1])
            if res == Status.SUCCESS:
                return value
            return _AGENT_SET_ERRORS.get(res, _UNKNOWN)
        if action == "list":
            if len(args) > 1:
                return _INVALID
            agents = list(store.agents.values())
            if args:
                agents = [a for a in agents if a.name == args[0]]
            return _table(agents)
        return ""

    # -- tier -------------------------------------------------------------------------------
    def _tier(self, action: str, args: list[str]) -> str:
        store = self.store
        if action == "add":
            if len(args) < 2:
                return _INVALID
            level = t.c_atoi(args[2]) if len(args) > 2 and args[2] else 1
            position = t.c_atoi(args[3]) if len(args) > 3 and args[3] else 1
            res = store.tier_add(args[0], args[1], t.TIER_READY, level, position)
            return _OK if res == Status.SUCCESS else _TIER_ADD_ERRORS.get(res, _UNKNOWN)
        if action == "set":
            if len(args) < 4:
                return _INVALID
            res = store.tier_update(args[0], args[3], args[1], args[2])
            return _OK if res == Status.SUCCESS else _TIER_SET_ERRORS.get(res, _UNKNOWN)
        if action == "del":
            if len(args) < 2:
                return _INVALID
            store.tier_del(args[0], args[1])
            return _OK
        if action == "reload":
            if len(args) < 1:
                return _INVALID
            queue = None if t.same(args[0], "all") else args[0]
            agent = args[1] if len(args) > 1 and queue is not None else None
            return _OK if store.load_tiers(queue, agent) else _UNKNOWN
        if action == "list":
            indexed = sorted(enumerate(store.tiers), key=lambda it: (it[1].level, it[1].position))
            return _table([tier for _, tier in indexed])
        return ""

    # -- queue ------------------------------------------------------------------------------
    def _queue(self, action: str, args: list[str]) -> str:
        store = self.store
        if action in ("load", "unload", "reload"):
            if len(args) < 1:
                return _INVALID
            if action != "load":
                store.destroy_queue(args[0])
            if action == "unload":
                return _OK
            if store.load_queue(args[0], True, True):
                return _OK
            return "-ERR Invalid Queue not found!\n"
        if action == "list":
            return self._queue_list(args)
        if action == "count":
            return self._queue_count(args)
        return ""

    def _queue_list(self, args: list[str]) -> str:
        store = self.store
        if not args:
            return _QUEUE_COLUMNS + "".join(_queue_line(q) for q in store.queues.values()) + _OK
        sub, queue = args[0].lower(), (args[1] if len(args) > 1 else None)
        if sub == "agents":
            return _table(self._queue_agents(queue, args[2:]))
        if sub == "members":
            return _member_rows(store, queue)
        if sub == "tiers":
            return _table([x for x in store.tiers if x.queue == queue])
        return _INVALID

    def _queue_agents(self, queue: str | None, filters: list[str]) -> list[AgentRow]:
        status = filters[0] if filters else None
        state = filters[1] if len(filters) > 1 else None
        names = [x.agent for x in self.store.tiers if x.queue == queue]
        out = []
        for agent in self.store.agents.values():
            if agent.name not in names:
                continue
            if status is not None and agent.status != status:
                continue
            if state is not None and agent.state != state:
                continue
            out.append(agent)
        return out

    def _queue_count(self, args: list[str]) -> str:
        store = self.store
        if not args:
            return f"{len(store.queues)}\n"
        sub, queue = args[0].lower(), (args[1] if len(args) > 1 else None)
        if sub == "agents":
            count = len(self._queue_agents(queue, args[2:]))
        elif sub == "members":
            count = sum(1 for m in store.members.values() if m.queue == queue)
        elif sub == "tiers":
            count = sum(1 for x in store.tiers if x.queue == queue)
        else:
            return _INVALID
        return f"{count}\n"


def _queue_line(queue: LoadedQueue) -> str:
    c = queue.config

    def b(v: bool) -> str:
        return "true" if v else "false"

    values = [
        c.name,
        c.strategy,
        c.moh_sound or "",
        c.time_base_score,
        b(c.tier_rules_apply),
        str(c.tier_rule_wait_second),
        b(c.tier_rule_wait_multiply_level),
        b(c.tier_rule_no_agent_no_wait),
        str(c.discard_abandoned_after_s),
        b(c.abandoned_resume_allowed),
        str(c.max_wait_time_s),
        str(c.max_wait_time_with_no_agent_s),
        str(c.max_wait_time_with_no_agent_time_reached_s),
        c.record_template or "",
        str(queue.calls_answered),
        str(queue.calls_abandoned),
        str(c.ring_progressively_delay_s),
        b(c.skip_agents_with_external_calls),
        c.agent_no_answer_status,
    ]
    return "|".join(values) + "\n"
