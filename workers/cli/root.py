"""What wraps every ``dialer`` command: SIGTERM ends it as cleanly as Ctrl-C does, and a bad
setting, or a database or Redis that cannot be reached, is one line naming its setting, not a
traceback.

A clean end matters beyond tidiness: the process's exit handlers run, so an embedded Redis
server it started is saved and stopped with it (`dialer.kv.stop_embedded_server`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import redis
import typer
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperGroup

from dialer.config import SettingsError
from workers.cli.common import err_console

# the shell's convention for "ended by signal N"
_SIGNAL_EXIT_BASE = 128


class DialerGroup(TyperGroup):
    """The root ``dialer`` group; every sub-command runs inside `command_scope`."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        with command_scope():
            return super().invoke(ctx)


@contextmanager
def command_scope() -> Iterator[None]:
    with _sigterm_as_exit(), _one_line_errors():
        yield


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit(143) in the main thread, so ``finally`` blocks and exit
    handlers run; a second SIGTERM during that clean-up ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise SystemExit(_SIGNAL_EXIT_BASE + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except SettingsError as exc:
        _fail(str(exc))
    except (OperationalError, InterfaceError) as exc:
        _fail(f"{_setting('DIALER_DATABASE_URL', _database_url())}: cannot use the database: "
              f"{_first_line(exc.orig or exc)}")  # fmt: skip
    except (redis.ConnectionError, KombuOperationalError) as exc:
        _fail(f"{_setting('DIALER_REDIS_URL', _redis_url())}: cannot reach Redis: "
              f"{_first_line(exc)}")  # fmt: skip


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _setting(name: str, value: str | None) -> str:
    return f"{name} ({value})" if value else name


def _database_url() -> str | None:
    url = _settings_value("database_url")
    return make_url(url).render_as_string(hide_password=True) if url else None


def _redis_url() -> str | None:
    url = _settings_value("redis_url")
    if url is None:
        return None
    parts = url.split("@", 1)
    # redis://user:password@host: only the part after the credentials
    return f"{parts[0].split('://', 1)[0]}://***@{parts[1]}" if len(parts) == 2 else url


def _settings_value(name: str) -> str | None:
    from workers.context import app_context

    try:
        value: str = getattr(app_context().settings, name)
    except SettingsError:  # the settings themselves are broken: name the variable only
        return None
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
