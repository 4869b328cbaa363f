"""The dialer's Prometheus metrics (docs/metrics.md): one definition of each name, counted
where the thing happens, exposed by each process: ``GET /metrics`` on `dialer api`, and an
HTTP server of its own in the listener and the pacing worker when their port is set
(``DIALER_LISTENER_METRICS_PORT``, ``DIALER_WORKER_METRICS_PORT``).

Metrics live in the process's memory (`prometheus_client`'s default registry): counting is
no I/O. A prefork worker pool's processes each count their own: with
``PROMETHEUS_MULTIPROC_DIR`` set (a directory the pool's processes share), the worker's
server adds them up (`prometheus_client.multiprocess`). Labels: ``campaign`` is the
campaign's id (``GET /v1/campaigns``), ``trunk`` the trunk's name, ``node`` the switch node.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

__all__ = [
    "ABANDONS",
    "CONTENT_TYPE_LATEST",
    "DESK_EVENTS",
    "DESK_SOCKETS",
    "DIAL_LEVEL",
    "ESL_CONNECTS",
    "IMPORT_ROWS",
    "ORIGINATES",
    "OUTCOMES",
    "TICK_SECONDS",
    "TRUNK_LINES",
    "exposition",
    "serve_metrics",
]

log = logging.getLogger(__name__)

ORIGINATES = Counter("dialer_originates", "Originates sent to a switch node", ["campaign", "trunk"])
OUTCOMES = Counter(
    "dialer_call_outcomes",
    "Campaign calls ended, by outcome and hangup cause (outcome 'none': not counted)",
    ["campaign", "outcome", "cause"],
)
ABANDONS = Counter("dialer_abandons", "Answered calls no agent took", ["campaign"])
DIAL_LEVEL = Gauge(
    "dialer_dial_level",
    "Lines per staffed agent after the last tick: calls up and launched / agents not away",
    ["campaign"],
)
TICK_SECONDS = Histogram(
    "dialer_tick_seconds",
    "Time one campaign tick took (snapshot, decision, claim, route, originate)",
    ["campaign"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
TRUNK_LINES = Gauge(
    "dialer_trunk_lines_in_use", "A trunk's lines in use as a pacer last read them", ["trunk"]
)
ESL_CONNECTS = Counter(
    "dialer_esl_connects",
    "Event Socket connections of the listener made (the first, then every reconnect)",
    ["node"],
)
IMPORT_ROWS = Counter(
    "dialer_import_rows", "Lead file rows imported, by outcome", ["campaign", "outcome"]
)
DESK_EVENTS = Counter(
    "dialer_desk_events_published", "Agents' events published to the desks", ["kind"]
)
DESK_SOCKETS = Gauge("dialer_desk_sockets", "Desk WebSockets open in this API process")


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    """The process's metrics in Prometheus's text format."""
    return generate_latest(_registry())


def serve_metrics(port: int, host: str = "0.0.0.0", what: str = "") -> bool:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread; port 0: not served."""
    if port <= 0:
        return False
    start_http_server(port, addr=host, registry=_registry())
    log.info("%s metrics on http://%s:%d/metrics", what or "process", host, port)
    return True
