"""Agents of mod_callcenter, kept in the database and made to match on every node.

Inner shape, as in every context: `ports` (`AgentStore`, `AgentRecord`, `Tier`), `adapters`
(`SqlAgentStore`), `fakes` (`MemoryAgentStore`), `service` (add, remove, tiers, status, sync,
the listing), `wiring` (the store, a node's sync, one-shot connections to every node),
`http` (``/v1/agents``). Pure beside them: `sync` (what the switch reports -> the
``callcenter_config`` commands that make it match the database); `orm` holds the tables. The
``callcenter_config`` command builders are `dialer.agent_admin`.
"""

__all__ = ["adapters", "fakes", "http", "orm", "ports", "service", "sync", "wiring"]
