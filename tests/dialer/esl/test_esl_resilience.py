"""Both TCP clients against a raw TCP server that misbehaves: garbage or a bad
``Content-Length`` costs the connection (a reconnect), never the client's thread; a switch
that goes silent after ``auth`` is left by the watchdog, whatever the subscription."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import get_args

import pytest

from dialer.config import FsNode
from dialer.esl.adapters.own import EslClient
from dialer.esl.ports import EslClientKind, ManagedEslConnection, Subscription
from dialer.esl.wiring import build_esl_client
from tests.support.waiting import wait_until

ADAPTERS: tuple[EslClientKind, ...] = get_args(EslClientKind)
AUTH_REQUEST = b"Content-Type: auth/request\n\n"
# what the pacing worker subscribes to: nothing but its own bgapi results
PACER = Subscription(events=())
ARABIC_12 = "\u0661\u0662".encode()  # int() reads it as 12


class RawPeer:
    """One accepted connection: reads the client's commands, writes raw bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.commands: list[str] = []
        self._buf = b""

    def read_command(self) -> str:
        while b"\n\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("client went away")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\n\n", 1)
        self.commands.append(raw.decode())
        return self.commands[-1]

    def answer_commands(self) -> None:
        """Reply +OK to everything (``+OK accepted`` to auth) until the client leaves."""
        while True:
            cmd = self.read_command()
            text = "+OK accepted" if cmd.startswith("auth ") else "+OK"
            self.sock.sendall(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    def handshake(self) -> None:
        """auth/request, then +OK to auth and to every subscription command, as they come."""
        self.sock.sendall(AUTH_REQUEST)
        self.answer_commands()


Handler = Callable[[RawPeer], None]


class RawServer:
    """Connection N is served by ``handlers[N]``; the last one serves every later one."""

    def __init__(self, handlers: list[Handler]) -> None:
        self.handlers = handlers
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.peers: list[RawPeer] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            peer = RawPeer(sock)
            handler = self.handlers[min(len(self.peers), len(self.handlers) - 1)]
            self.peers.append(peer)
            threading.Thread(target=self._serve, args=(handler, peer), daemon=True).start()

    @staticmethod
    def _serve(handler: Handler, peer: RawPeer) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            handler(peer)

    def close(self) -> None:
        self.listener.close()
        for peer in self.peers:
            with contextlib.suppress(OSError):
                peer.sock.close()


def healthy(peer: RawPeer) -> None:
    peer.handshake()


MakeClient = Callable[..., tuple[ManagedEslConnection, RawServer]]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    made: list[tuple[ManagedEslConnection, RawServer]] = []

    def make(
        kind: EslClientKind,
        handlers: list[Handler],
        subscription: Subscription = PACER,
        **timing_s: float,
    ) -> tuple[ManagedEslConnection, RawServer]:
        server = RawServer(handlers)
        node = FsNode(name="fs1", host="127.0.0.1", port=server.port)
        timing_s.setdefault("backoff_initial_s", 0.05)
        client = build_esl_client(kind, node, subscription, lambda _e: None, **timing_s).start()
        made.append((client, server))
        return client, server

    yield make
    for client, server in made:
        client.close()
        server.close()


BEFORE_AUTH = {
    "garbage": b"\x00\x01garbage without a colon\n\n",
    "content-length not digits": b"Content-Type: auth/request\nContent-Length: 1x\n\nx",
    "content-length arabic digits": (
        b"Content-Type: auth/request\nContent-Length: " + ARABIC_12 + b"\n\n" + b"y" * 12
    ),
    "content-length 5000 digits": (
        b"Content-Type: auth/request\nContent-Length: " + b"9" * 5000 + b"\n\n"
    ),
}


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize("stream", BEFORE_AUTH.values(), ids=list(BEFORE_AUTH))
def test_bad_bytes_before_auth_request_cost_a_reconnect(
    make_client: MakeClient, kind: EslClientKind, stream: bytes
) -> None:
    """The first connection starts with ``stream``, then would go on like a switch; the
    client must leave it and connect again (the second connection is a sane switch)."""

    def bad_then_obliging(peer: RawPeer) -> None:
        peer.sock.sendall(stream)
        peer.answer_commands()

    client, server = make_client(kind, [bad_then_obliging, healthy])
    assert wait_until(lambda: client.connected and len(server.peers) >= 2, 3.0)
    assert server.peers[0].commands == []
    assert client.failure is None


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize("length", [ARABIC_12, b"+12", b"x"], ids=["arabic", "sign", "letter"])
def test_a_bad_content_length_after_auth_drops_the_line(
    make_client: MakeClient, kind: EslClientKind, length: bytes
) -> None:
    def bad_event(peer: RawPeer) -> None:
        peer.sock.sendall(AUTH_REQUEST)
        peer.read_command()  # auth
        peer.sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        peer.read_command()  # event json ...
        peer.sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
        body = b'{"Event-Name":"HEARTBEAT"}'
        peer.sock.sendall(
            b"Content-Type: text/event-json\nContent-Length: " + length + b"\n\n" + body
        )
        peer.answer_commands()

    client, server = make_client(kind, [bad_event, healthy])
    assert wait_until(lambda: client.connects >= 2 and client.connected, 3.0)
    assert len(server.peers) >= 2
    assert client.failure is None


@pytest.mark.parametrize("kind", ADAPTERS)
def test_a_switch_silent_after_auth_is_left_even_by_the_pacer(
    make_client: MakeClient, kind: EslClientKind
) -> None:
    """The pacer's subscription asks for HEARTBEAT, and the watchdog is on for it: a switch
    that stops sending (no heartbeat for longer than the bound) is reconnected to."""
    client, server = make_client(kind, [healthy], PACER, heartbeat_timeout_s=0.5)
    assert client.wait_connected(3.0)
    assert wait_until(lambda: client.connects >= 2, 4.0)
    subscribed = server.peers[0].commands[1]
    assert subscribed.startswith("event json ") and "HEARTBEAT" in subscribed.split()


def test_a_client_whose_connection_thread_ends_says_so() -> None:
    """Not an error of one attempt (those are retried) but the loop itself ending: the
    client reports it, so its owner can exit non-zero."""

    class Broken(EslClient):
        def _reconnect_forever(self, *_args: object) -> None:
            raise SystemExit("out of threads")

    client = Broken("fs1", "127.0.0.1", 9, "ClueCon", PACER, lambda _e: None).start()
    try:
        assert wait_until(lambda: client.failure is not None, 2.0)
        assert client.failure == "SystemExit: out of threads"
        assert not client.connected
    finally:
        client.close()
