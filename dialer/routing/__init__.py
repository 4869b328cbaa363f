"""Trunk routing: least-cost routing, weights, trunk limits, blind areas, caller IDs.

Inner shape, as in every context: `ports` holds the seams (`typing.Protocol`: capacity
reservations, trunk health) and the plain data that crosses them; `adapters` their Redis
implementations (one Lua script per update); `fakes` their in-memory twins; `service` the use
cases over a database session (trunks, rate decks, the routing table, a route explained); `orm`
the trunk and rate tables; `wiring` the trunk state every process builds from one Redis
namespace; `http` the ``/v1/trunks`` and ``/v1/route`` routes over the service (`schemas`
their JSON). The other modules are pure logic and do no I/O themselves: `model`, `spec` (a
trunk as an operator writes it, validated into a `Trunk`), `ratedeck`, `geo`, `distributor`,
`callerid`, `health`, `table`, `router` (one decision), `failover`, `claim` (a decision to a
reservation over the port), `audit`. `loadgen`, reservation load from many processes for
tests and benchmarks, does I/O too. tests/test_purity.py names every module
that does I/O and holds the rest to that.
"""

__all__ = [
    "adapters",
    "audit",
    "callerid",
    "claim",
    "distributor",
    "failover",
    "fakes",
    "geo",
    "health",
    "http",
    "loadgen",
    "model",
    "orm",
    "ports",
    "ratedeck",
    "router",
    "schemas",
    "service",
    "spec",
    "table",
    "wiring",
]
