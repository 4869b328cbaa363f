"""The Event Socket seam over TCP: one module per client library, each a subclass of
`managed.ManagedClient` that adds only its transport.

The rule: a module here opens connections (``own``: sockets and threads; ``greenswitch``:
greenswitch and gevent); what both do the same way (options, commands, background jobs,
reconnecting, the watchdog's rule) lives once in ``managed`` and ``jobs``, which open
nothing. The package imports no module itself, so choosing ``own`` never loads gevent;
`dialer.esl.wiring` imports the one a process is configured for.
"""

__all__ = ["greenswitch", "jobs", "managed", "own"]
