"""Composition root of the HTTP API process (`dialer api`): one FastAPI app under uvicorn.

`create_app` builds the app from a context's wiring: the switch-facing routes under
``/fsapi`` (the CDR endpoint, `dialer.cdr.http`) and the public API under ``/v1``
(`public_routers`: one router per context, every route behind an API key of the right role,
`dialer.apikeys.http`), and the web console's pages (`dialer.web.pages`, docs/web.md).
Errors are RFC 9457 problem documents (`dialer.http_problems`); the
OpenAPI document is served at ``/openapi.json``, its pages at ``/docs``.
``python -m workers.api`` serves it on ``DIALER_API_HOST:DIALER_API_PORT`` until
SIGINT/SIGTERM. While it serves, a task on the server's own event loop beats loop
``server`` of process ``api`` (`dialer.liveness`), so a blocked event loop
shows up in ``dialer health api`` as a stale heartbeat.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import cache, partial

from fastapi import APIRouter, Depends, FastAPI, Response

from campaigns.http import campaigns_router, dnc_router
from campaigns.importer.http import lead_lists_router
from dialer.agents.http import AgentsApi, agents_router
from dialer.agents.wiring import sql_agent_store
from dialer.apicalls.adapters import SqlApiCallStore
from dialer.apicalls.http import calls_router
from dialer.apicalls.ports import ApiCallStore
from dialer.apicalls.service import CallDeps
from dialer.apicalls.wiring import call_deps
from dialer.apikeys.http import KeyAuth, keys_router
from dialer.apikeys.ports import Role
from dialer.apikeys.wiring import sql_key_store
from dialer.calls.machine import CallState
from dialer.cdr.http import fsapi_router
from dialer.cdr.report_http import reports_router
from dialer.cdr.wiring import cdr_deps, cost_report_api
from dialer.desk.http import DeskApi, desk_router
from dialer.desk.wiring import desk_bus, lead_cards
from dialer.http_problems import (
    PROBLEM_RESPONSES,
    install_problem_handlers,
    refuse_nul_characters,
)
from dialer.listener.ports import TrunkRelease
from dialer.listener.wiring import live_state
from dialer.liveness.service import LoopBeat, forget_dead, pid_alive
from dialer.liveness.wiring import heartbeat_store
from dialer.metrics import CONTENT_TYPE_LATEST, exposition
from dialer.nodes.http import nodes_router
from dialer.nodes.wiring import nodes_api
from dialer.postcall.http import webhooks_router
from dialer.postcall.wiring import disposition_store, webhook_api_deps
from dialer.recordings.http import downloads_router, recordings_router, upload_router
from dialer.recordings.service import recording_link
from dialer.recordings.wiring import public_url, recording_deps
from dialer.routing.http import RoutingApi, routing_router
from dialer.routing.wiring import TrunkState, redis_trunk_state
from dialer.runner.adapters import LiveStateView
from dialer.runner.http import LiveApi, live_router
from dialer.web.pages import static_files, web_router
from dialer.xmlcurl.http import xml_curl_router
from dialer.xmlcurl.wiring import xml_curl_deps
from workers.context import AppContext, app_context
from workers.manage import lead_list_deps, manage_deps
from workers.tasks_post_call import enqueue_post_call

__all__ = ["V1_PREFIX", "create_app", "main"]

V1_PREFIX = "/v1"
API_BEAT_EVERY_S = 5.0
API_STALE_AFTER_S = 30.0
log = logging.getLogger(__name__)


async def _beat_while_serving(heartbeat: LoopBeat, every_s: float) -> None:
    while True:
        heartbeat.beat()
        await asyncio.sleep(every_s)


def _beating(heartbeat: LoopBeat | None, every_s: float) -> Callable[[FastAPI], object]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if heartbeat is None:
            yield
            return
        task = asyncio.create_task(_beat_while_serving(heartbeat, every_s))
        try:
            yield
        finally:
            task.cancel()
            heartbeat.stopped()

    return lifespan


def _trunk_state(context: AppContext) -> Callable[[], TrunkState]:
    """The trunk state the pacers share, built on first use (Redis is opened lazily)."""
    return cache(lambda: redis_trunk_state(context.redis, context.namespace))


def public_routers(context: AppContext, auth: KeyAuth) -> list[APIRouter]:
    """The ``/v1`` routers of every context, each over the services the CLI uses."""
    settings = context.settings
    routing = RoutingApi(
        context.sessions, _trunk_state(context), context.clock, settings.default_region
    )
    agents = AgentsApi(
        sql_agent_store(context.sessions),
        settings.freeswitch_nodes,
        settings.esl_client,
        cache(lambda: live_state(context.redis, context.namespace)),
        lambda name: name in SqlApiCallStore(context.sessions).agents_in_calls(),
    )

    def deps() -> CallDeps:
        return call_deps(
            context.settings, context.sessions, context.redis, context.clock, context.ids,
            namespace=context.namespace,
        )  # fmt: skip

    def store() -> ApiCallStore:
        return SqlApiCallStore(context.sessions)

    manage = manage_deps(context)
    recordings = recording_deps(settings, context.clock)
    link = partial(recording_link, recordings, public_url=public_url(settings))
    nodes = [n.name for n in settings.freeswitch_nodes]
    live = LiveApi(
        context.sessions,
        cache(lambda: LiveStateView(live_state(context.redis, context.namespace), nodes)),
        context.clock,
    )

    def calls_up() -> list[CallState]:
        live_calls = live_state(context.redis, context.namespace)
        return [c for name in nodes for c in live_calls.calls(name).values()]

    desk = DeskApi(
        cache(lambda: desk_bus(context.redis, context.namespace)),
        calls_up,
        lead_cards(context.sessions), disposition_store(context.sessions), auth.store,
        context.clock, settings.timezone,
    )  # fmt: skip
    # the business systems' calls first: routes are matched in order, and that one is hot
    return [
        calls_router(auth, deps, store, link),
        keys_router(auth),
        live_router(auth, live),
        campaigns_router(manage, auth),
        dnc_router(manage, auth),
        lead_lists_router(lead_list_deps(context), auth),
        webhooks_router(webhook_api_deps(context.sessions, context.clock), auth),
        routing_router(auth, routing),
        agents_router(auth, agents),
        reports_router(auth, cost_report_api(context.sessions, context.clock, settings.timezone)),
        nodes_router(auth, nodes_api(settings, context.sessions)),
        recordings_router(auth, recordings),
        desk_router(auth, desk),
    ]


def create_app(
    context: AppContext,
    notify: Callable[[int], None] | None = enqueue_post_call,
    trunks: TrunkRelease | None = None,
    v1_routers: Sequence[APIRouter] | None = None,
    heartbeat: LoopBeat | None = None,
    beat_every_s: float = API_BEAT_EVERY_S,
) -> FastAPI:
    """The API of ``context``: ``/fsapi`` for the switch, ``/v1`` for the public routers;
    ``notify(attempt_id)`` hands each attempt a CDR settled to the post-call work;
    ``trunks`` frees the lines of settled calls (default: the context's reservations);
    ``v1_routers`` replaces `public_routers` (tests of one router); ``heartbeat`` is beaten
    every ``beat_every_s`` while the app serves."""
    app = FastAPI(
        title="dialer", version="1", docs_url="/docs", redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_beating(heartbeat, beat_every_s),  # type: ignore[arg-type]
    )  # fmt: skip
    settings = context.settings
    if trunks is None:
        trunks = redis_trunk_state(context.redis, context.namespace).reservations
    deps = cdr_deps(context.sessions, context.clock, notify, trunks)
    install_problem_handlers(app)
    app.include_router(fsapi_router(deps, settings.fsapi_credentials), include_in_schema=False)
    app.include_router(
        xml_curl_router(xml_curl_deps(context.sessions, context.clock), settings.fsapi_credentials),
        include_in_schema=False,
    )
    recordings = recording_deps(settings, context.clock)
    app.include_router(
        upload_router(recordings, settings.fsapi_credentials), include_in_schema=False
    )
    app.include_router(downloads_router(recordings), include_in_schema=False)
    auth = KeyAuth(sql_key_store(context.sessions))
    if v1_routers is None:
        v1_routers = public_routers(context, auth)
    v1 = APIRouter(
        prefix=V1_PREFIX,
        responses=PROBLEM_RESPONSES,
        dependencies=[Depends(refuse_nul_characters)],
    )
    for router in v1_routers:
        v1.include_router(router)
    app.include_router(v1)
    _metrics_route(app, auth)
    # the web console and desk (docs/web.md): pages over the /v1 routes above
    app.include_router(web_router(sql_key_store(context.sessions)))
    app.mount("/static", static_files(), name="static")
    return app


def _metrics_route(app: FastAPI, auth: KeyAuth) -> None:
    # behind a key as every route of the API (Prometheus sends one: `authorization` in its
    # scrape configuration); the listener's and worker's listen on loopback by default
    readers = auth.require(Role.MANAGER, Role.SYSTEM)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(readers)])
    def metrics() -> Response:
        """The process's Prometheus metrics (docs/metrics.md): counts and names, no lead
        or key data."""
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def main() -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    context = app_context()
    settings = context.settings
    if not settings.fsapi_credentials:
        log.warning("DIALER_FSAPI_CREDENTIALS is not set: every CDR post is refused (503)")
    store = heartbeat_store(settings.health_dir)
    forget_dead(store, "api", socket.gethostname(), pid_alive)
    heartbeat = LoopBeat(store, "api", "server", API_STALE_AFTER_S)
    app = create_app(context, heartbeat=heartbeat)
    # What was built so far lives as long as the process: kept out of the collector's full
    # passes, which walk every object and stall each request in flight (10-90 ms here, every
    # 2-3 s at 200 calls/s with the default thresholds); the rest collected less often.
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port)


if __name__ == "__main__":
    main()
