"""Which errors mean that a backend is away (and the same work may succeed later): Redis,
the database's connection, an Event Socket or any socket. The long-running loops retry on
these (`dialer.retry.retry_transient`); any other error is a defect of the work itself."""

from __future__ import annotations

import redis
from sqlalchemy import exc as sa_exc

from dialer.esl.ports import EslError

BACKEND_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,  # with BusyLoadingError: a restarted Redis loading its data
    redis.TimeoutError,
    redis.ReadOnlyError,  # a replica that is being promoted
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    EslError,
    OSError,
)


def is_backend_error(exc: BaseException) -> bool:
    """True for an error of an unreachable or failing backend, not of the work."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, BACKEND_ERRORS)
