"""FreeSWITCH nodes placed by load: each node's capacity, shared limits, drain, placement.

Inner shape, as in every context: `ports` holds the seams (`NodeStore`: the per-node state
every pacer and API process shares; `StatusReader`: the switch's own figures) and the plain
data that crosses them; `adapters` their implementations (Redis, one Lua script per update;
the node's Event Socket connection); `fakes` their in-memory twins; `service` the use cases
(`NodePlacer`, drain, the switch's limits); `wiring` what the roots build. Pure logic:
`capacity` (the ``status`` and ``fsctl`` replies read, the sps bucket) and `placement` (the
node with the most headroom); `switch_state` (each node's gateways and registrations, read
for ``GET /v1/nodes/{node}/...`` over `NodeApi`); `http` those routes. docs/scaling.md says
how placement works.
"""

__all__ = [
    "adapters",
    "capacity",
    "fakes",
    "http",
    "placement",
    "ports",
    "service",
    "switch_state",
    "wiring",
]
