"""Everything between the dialer and a FreeSWITCH node over the Event Socket (docs/esl.md).

Without I/O: ``frames`` (the project's one decoder of the wire), ``events`` (event bodies,
command results), ``originate`` (originate strings), ``seam`` (the `EslConnection` protocol
and its in-memory fake), ``jobs`` (bgapi jobs in flight). Over TCP: ``client`` (the own
client, threads) and ``greenswitch_client`` (gevent), built by ``factory.build_esl_client``.
The package imports no module itself, so the modules without I/O load without sockets or
gevent.
"""

__all__ = [
    "client",
    "events",
    "factory",
    "frames",
    "greenswitch_client",
    "jobs",
    "originate",
    "seam",
]
