"""A child process's life tied to its parent's (Linux): the one way a ``kill -9`` of a
supervisor cannot leave its children running, since SIGKILL can be neither caught nor
forwarded."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable
from functools import cache

# <linux/prctl.h>
_PR_SET_PDEATHSIG = 1


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def die_with_parent(signum: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Ask the kernel to send ``signum`` to this process when its parent dies. With
    ``parent_pid`` (the parent's pid read before the fork), exit at once if the parent died
    before the request was made. A no-op where there is no ``prctl``."""
    libc = _libc()
    if libc is None or libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def child_of_this_process(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for `subprocess.Popen`: the child gets ``signum`` when this process
    dies, however it dies. libc is loaded here, before the fork, since finding it may run
    programs."""
    parent = os.getpid()
    _libc()
    return lambda: die_with_parent(signum, parent)
