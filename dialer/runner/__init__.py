"""The runner: paces each running campaign under its lease, one bounded slice at a time.

Inner shape, as in every context: `ports` holds the seams (`typing.Protocol`) and the plain
data that crosses them, the campaign lease included; `adapters` their real implementations
(SQL, Redis, the Event Socket); `fakes` their in-memory twins; `service` the use cases (a
slice, the lapsed campaigns, the preflight). The other modules are pure logic over the ports
and do no I/O themselves: `tick` (one tick), `snapshot` (listener records -> pacer views),
`ticker` (fixed deadlines), `preflight` (what must hold before a campaign starts, judged from
what the nodes and the rows say). A module that does I/O is an adapter and lives in
`adapters`.
"""

__all__ = ["adapters", "fakes", "ports", "preflight", "service", "snapshot", "tick", "ticker"]
