"""Composition root of a Celery worker process: what its tasks work with, built once.

The tasks of an app ask `root_of(app)`. A worker process builds its `WorkerRoot` from its
`AppContext` when its first task asks (under a lock: the pacing threads ask at once) and keeps
it; a process of the prefork pool gets its own when it starts (``worker_process_init``), on
the settings it inherited and connections of its own, since connections must not cross a
fork. Tests hand the app a root made from their own context and fakes with `install_root`:
the same class the tasks would otherwise build.

Pacing originates over one Event Socket client (of the configured kind) per FreeSWITCH node
and process, opened on first use and kept: the pacing threads of the process share it
(bgapi; the listener reads the results).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from celery import Celery
from celery.signals import worker_init, worker_process_init
from sqlalchemy.orm import Session, sessionmaker

from campaigns.importer.service import ImportDeps
from campaigns.importer.wiring import import_deps
from dialer.apicalls.service import CallDeps
from dialer.apicalls.wiring import call_deps
from dialer.metrics import serve_metrics
from dialer.postcall.service import PostCallDeps
from dialer.postcall.wiring import post_call_deps
from dialer.runner.adapters import EslSwitch, RedisLeaseStore, running_campaign_ids
from dialer.runner.ports import LeaseStore
from dialer.runner.tick import TickDeps
from dialer.runner.wiring import esl_switch, tick_deps
from workers.context import AppContext, app_context
from workers.lifetime import die_with_parent

ESL_CONNECT_WAIT_S = 5.0
_ROOT_ATTRIBUTE = "dialer_root"
_root_lock = threading.Lock()


class PacingRuntime(Protocol):
    """What the pacing tasks need of their process."""

    @property
    def leases(self) -> LeaseStore: ...

    def tick_deps(self) -> TickDeps:
        """Dependencies of one slice (the routing table is re-read per slice)."""
        ...

    def running_campaigns(self) -> list[int]: ...

    def kick(self, campaign_id: int, ttl_s: int) -> bool:
        """True for the first caller within ``ttl_s`` for this campaign."""
        ...


class WorkerPacing:
    """`PacingRuntime` on a context's database, Redis and FreeSWITCH nodes."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._switch: EslSwitch | None = None
        self._lock = threading.Lock()

    @property
    def leases(self) -> LeaseStore:
        return RedisLeaseStore(self._context.redis)

    def switch(self) -> EslSwitch:
        """The process's originate connections, opened on first use."""
        with self._lock:
            if self._switch is None:
                nodes = self._context.settings.freeswitch_nodes
                self._switch = esl_switch(
                    nodes, ESL_CONNECT_WAIT_S, self._context.settings.esl_client
                )
            return self._switch

    def tick_deps(self) -> TickDeps:
        ctx = self._context
        return tick_deps(
            ctx.settings, ctx.redis, ctx.sessions, self.switch(), ctx.clock, ctx.ids,
            namespace=ctx.namespace,
        )  # fmt: skip

    def running_campaigns(self) -> list[int]:
        return running_campaign_ids(self._context.sessions)

    def kick(self, campaign_id: int, ttl_s: int) -> bool:
        key = f"dialer:{{c{campaign_id}}}:kick"
        return bool(self._context.redis.set(key, "1", nx=True, ex=ttl_s))

    def close(self) -> None:
        """Close the originate connections, if they were opened."""
        with self._lock:
            if self._switch is not None:
                self._switch.close()
                self._switch = None


class WorkerRoot:
    """What the tasks of one worker process work with: the context, the pacing runtime
    (`WorkerPacing` unless given), the post-call and API call dependencies (on the context's
    database, built when first asked for, unless given), a lead import's dependencies."""

    def __init__(
        self,
        context: AppContext,
        *,
        pacing: PacingRuntime | None = None,
        post_call: PostCallDeps | None = None,
        api_calls: CallDeps | None = None,
    ) -> None:
        self.context = context
        self.pacing: PacingRuntime = pacing if pacing is not None else WorkerPacing(context)
        self._post_call = post_call
        self._api_calls = api_calls
        self._lock = threading.Lock()

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.context.sessions

    def lead_import(self) -> ImportDeps:
        """A lead import's dependencies, on the context's database and clock."""
        return import_deps(self.context.sessions, self.context.clock)

    def api_calls(self) -> CallDeps:
        """API calls (callbacks due) over the context's database, Redis and switches."""
        with self._lock:
            if self._api_calls is None:
                ctx = self.context
                self._api_calls = call_deps(
                    ctx.settings, ctx.sessions, ctx.redis, ctx.clock, ctx.ids,
                    namespace=ctx.namespace,
                )  # fmt: skip
            return self._api_calls

    def post_call(self) -> PostCallDeps:
        with self._lock:
            if self._post_call is None:
                ctx = self.context
                self._post_call = post_call_deps(ctx.sessions, ctx.clock, settings=ctx.settings)
            return self._post_call


def install_root(app: Celery, root: WorkerRoot | None) -> None:
    """Make ``root`` what ``app``'s tasks work with in this process; None: the process's own,
    built from its context when a task first asks."""
    with _root_lock:
        setattr(app, _ROOT_ATTRIBUTE, root)


def root_of(app: Celery) -> WorkerRoot:
    """The root ``app``'s tasks work with in this process."""
    with _root_lock:
        root: WorkerRoot | None = getattr(app, _ROOT_ATTRIBUTE, None)
        if root is None:
            root = WorkerRoot(app_context())
            setattr(app, _ROOT_ATTRIBUTE, root)
        return root


def _own_root_per_pool_process(sender: Any = None, **_: Any) -> None:
    # A forked pool process keeps the settings it inherited, not the connections; it ends
    # with the worker that forked it, even one killed by SIGKILL.
    from workers.celery_app import app

    die_with_parent()

    inherited = app_context()
    fresh = AppContext(
        inherited.settings,
        clock=inherited.clock,
        ids=inherited.ids,
        namespace=inherited.namespace,
    )
    install_root(app, WorkerRoot(fresh))


worker_process_init.connect(_own_root_per_pool_process, weak=False)


def _serve_metrics(sender: Any = None, **_: Any) -> None:
    # the worker's main process serves /metrics (its pool's processes' too, with
    # PROMETHEUS_MULTIPROC_DIR: docs/metrics.md)
    settings = app_context().settings
    serve_metrics(settings.worker_metrics_port, settings.metrics_host, "worker")


worker_init.connect(_serve_metrics, weak=False)
