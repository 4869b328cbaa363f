"""The dialer: pacing, routing, call state, the listener, post-call work and the switch's
Event Socket. The package itself exports nothing: import from its modules.
"""

__all__: list[str] = []
