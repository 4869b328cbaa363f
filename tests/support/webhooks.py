"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that keeps every request as
received (path, headers, raw body) and answers from a script; and the signature check of
docs/api/webhooks.md, taken from the page itself so that the recipe printed is the one
tested."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "webhooks.md"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: status, body text, extra headers (``Retry-After``...)."""

    status: int = 204
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver(ThreadingHTTPServer):
    """Answers each POST with the next scripted `Reply` (the last one repeats; 204 when
    none); ``requests`` in the order received."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: deque[Reply] = deque()
        self.last = Reply()
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            if self.replies:
                self.last = self.replies.popleft()
            return self.last


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append(Request(self.path, headers, body))
        reply = self.server.next_reply()
        text = reply.text.encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A `Receiver` serving in a thread until the block ends."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=5)


Verify = Callable[..., bool]


def documented_verify() -> Verify:
    """``verify_dialer_signature(secret, header, body, now=None)`` exactly as the Python
    block of docs/api/webhooks.md defines it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    verify: Verify = namespace["verify_dialer_signature"]
    return verify
