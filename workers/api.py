"""Composition root of the HTTP API process (`dialer api`): one FastAPI app under uvicorn.

`create_app` builds the app from a context's wiring: the switch-facing routes under
``/fsapi`` (the CDR endpoint, `dialer.cdr.http`) and the public API under ``/v1``, whose
routers are added to ``v1_routers``. ``python -m workers.api`` serves it on
``DIALER_API_HOST:DIALER_API_PORT`` until SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI

from dialer.cdr.http import fsapi_router
from dialer.cdr.wiring import cdr_deps
from dialer.listener.ports import TrunkRelease
from dialer.routing.wiring import redis_trunk_state
from workers.context import AppContext, app_context
from workers.tasks_post_call import enqueue_post_call

__all__ = ["V1_PREFIX", "create_app", "main"]

V1_PREFIX = "/v1"
log = logging.getLogger(__name__)


def create_app(
    context: AppContext,
    notify: Callable[[int], None] | None = enqueue_post_call,
    trunks: TrunkRelease | None = None,
    v1_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The API of ``context``: ``/fsapi`` for the switch, ``/v1`` for the public routers;
    ``notify(attempt_id)`` hands each attempt a CDR settled to the post-call work;
    ``trunks`` frees the lines of settled calls (default: the context's reservations)."""
    app = FastAPI(title="dialer", docs_url=None, redoc_url=None, openapi_url=None)
    settings = context.settings
    if trunks is None:
        trunks = redis_trunk_state(context.redis, context.namespace).reservations
    deps = cdr_deps(context.sessions, context.clock, notify, trunks)
    app.include_router(fsapi_router(deps, settings.fsapi_credentials))
    v1 = APIRouter(prefix=V1_PREFIX)
    for router in v1_routers:
        v1.include_router(router)
    app.include_router(v1)
    return app


def main() -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    context = app_context()
    settings = context.settings
    if not settings.fsapi_credentials:
        log.warning("DIALER_FSAPI_CREDENTIALS is not set: every CDR post is refused (503)")
    uvicorn.run(create_app(context), host=settings.api_host, port=settings.api_port)


if __name__ == "__main__":
    main()
