"""The `WebhookSender` contract (`dialer.postcall.ports`): `ScriptedSender`, and `HttpxSender`
over TCP to an HTTP receiver on 127.0.0.1 that answers from the same script. Status codes,
error texts, ``Retry-After`` as sent, no answer in time, the body (byte for byte) and headers
as received."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import pytest

from dialer.postcall.adapters import HttpxSender
from dialer.postcall.fakes import ScriptedSender
from dialer.postcall.ports import WebhookSender
from dialer.postcall.webhooks import TryResult
from tests.conftest import Backend

PORT = "webhook_sender"
TIMEOUT_S = 1.0
Received = tuple[str, bytes, dict[str, str]]


@dataclass(frozen=True, slots=True)
class Answer:
    """The receiver's answer to one POST: ``status`` None, no answer within the timeout."""

    status: int | None
    text: str = ""
    retry_after: str = ""


class Harness(Protocol):
    sender: WebhookSender
    url: str

    def script(self, *answers: Answer) -> None:
        """The receiver's answers to the next POSTs, in order."""
        ...

    def received(self) -> list[Received]:
        """(url, JSON body, headers with lower-case names) of every POST received."""
        ...

    def refusing_url(self) -> str:
        """A URL whose host refuses the connection."""
        ...


class FakeHarness:
    """The fake is told what the real sender would return for each answer."""

    url = "http://crm.test/hook"

    def __init__(self) -> None:
        self.scripted = ScriptedSender([])
        self.sender: WebhookSender = self.scripted

    def script(self, *answers: Answer) -> None:
        for a in answers:
            if a.status is None:
                self.scripted.results.append(TryResult(None, "ReadTimeout: timed out"))
            else:
                error = "" if 200 <= a.status < 300 else a.text[:500]
                self.scripted.results.append(TryResult(a.status, error, a.retry_after))

    def received(self) -> list[Received]:
        sent = zip(self.scripted.sent, self.scripted.raw, strict=True)
        return [
            (u, raw, {k.lower(): v for k, v in h.items()})
            for (u, _, h), raw in sent
            if u == self.url
        ]

    def refusing_url(self) -> str:
        self.scripted.results.append(TryResult(None, "ConnectError: [Errno 111] refused"))
        return "http://127.0.0.1:9/hook"


class Receiver(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 answering POSTs from a script; a silent answer holds the
    request until ``release`` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: deque[Answer] = deque()
        self.requests: list[Received] = []
        self.release = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append((url, body, headers))
        answer = self.server.answers.popleft() if self.server.answers else Answer(204)
        if answer.status is None:
            self.server.release.wait(10)
            self.close_connection = True
            return
        text = answer.text.encode()
        self.send_response(answer.status)
        if 300 <= answer.status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if answer.retry_after:
            self.send_header("Retry-After", answer.retry_after)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *_args: Any) -> None:
        pass


class HttpHarness:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        self.sender: WebhookSender = HttpxSender(timeout_s=TIMEOUT_S)

    def script(self, *answers: Answer) -> None:
        self.receiver.answers.extend(answers)

    def received(self) -> list[Received]:
        return list(self.receiver.requests)

    def refusing_url(self) -> str:
        with socket.socket() as probe:  # a port just freed: nothing listens on it
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def h(backend: Backend) -> Iterator[Harness]:
    if backend.is_fake:
        yield FakeHarness()
        return
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    harness = HttpHarness(receiver)
    try:
        yield harness
    finally:
        assert isinstance(harness.sender, HttpxSender)
        harness.sender.close()
        receiver.release.set()
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=5)


def body(n: int) -> bytes:
    return json.dumps({"n": n}).encode()


def test_each_answer_comes_back_as_its_status_with_the_error_text_of_failures(
    h: Harness,
) -> None:
    h.script(
        Answer(200, "thanks"),
        Answer(503, "busy, retry", "120"),
        Answer(404, "no such hook"),
        Answer(302, "moved"),
        Answer(500, "x" * 2000),
        Answer(429, "slow down", "Sat, 21 Nov 2026 15:02:00 GMT"),
    )
    results = [h.sender.post(h.url, body(n), {}) for n in range(6)]
    assert results == [
        TryResult(200, ""),
        TryResult(503, "busy, retry", "120"),
        TryResult(404, "no such hook"),
        TryResult(302, "moved"),  # a redirect is the receiver's answer: not followed
        TryResult(500, "x" * 500),
        TryResult(429, "slow down", "Sat, 21 Nov 2026 15:02:00 GMT"),
    ]
    assert [b for _, b, _ in h.received()] == [body(n) for n in range(6)]


def test_no_answer_in_time_or_no_connection_is_a_try_without_status(h: Harness) -> None:
    h.script(Answer(None))
    silent = h.sender.post(h.url, body(1), {})
    assert silent.status_code is None and "Timeout" in silent.error
    refused = h.sender.post(h.refusing_url(), body(2), {})
    assert refused.status_code is None and "ConnectError" in refused.error
    h.script(Answer(204))
    assert h.sender.post(h.url, body(3), {}) == TryResult(204, "")
    assert [b for _, b, _ in h.received()] == [body(1), body(3)]


def test_the_body_arrives_byte_for_byte_with_the_headers(h: Harness) -> None:
    sent = '{"call_uuid":"u-7","name":"O\'Brien, Zoë","agent":null}'.encode()
    h.script(Answer(200))
    headers = {
        "Content-Type": "application/json",
        "X-Dialer-Delivery": "u-7",
        "X-Dialer-Signature": "t=1795791600,v1=" + "ab" * 32,
    }
    assert h.sender.post(h.url, sent, headers).status_code == 200
    [(url, received, got)] = h.received()
    assert url == h.url and received == sent
    assert json.loads(received)["name"] == "O'Brien, Zoë"
    assert got["x-dialer-delivery"] == "u-7"
    assert got["content-type"] == "application/json"
    assert got["x-dialer-signature"] == headers["X-Dialer-Signature"]
