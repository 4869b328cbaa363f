"""Everything between the dialer and a FreeSWITCH node over the Event Socket (docs/esl.md).

Inner shape, as in every context: `ports` holds the seam (`EslConnection`,
`ManagedEslConnection`, `Subscription`, the errors, `EslClientKind`); `adapters` its two
real implementations over TCP (``own``: threads; ``greenswitch``: gevent); `fakes` the
in-memory twin (`FakeEslConnection`); `wiring` builds the client a process is configured
for. There is no ``service``: this context is a transport, and its use cases belong to the
contexts that talk to a switch through the seam (the listener, the runner's originates,
`dialer.agent_admin`). The other modules are the protocol, without I/O: ``frames`` (the
project's one decoder of the wire, used by the client, the simulator and the transcript
replays), ``events`` (event bodies, command results), ``originate`` (originate strings).

The package imports no module itself, so the modules without I/O load without sockets or
gevent.
"""

__all__ = [
    "adapters",
    "events",
    "fakes",
    "frames",
    "originate",
    "ports",
    "wiring",
]
