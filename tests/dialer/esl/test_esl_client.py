"""EslClient against a scripted TCP server replaying FreeSWITCH transcript bytes."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from dialer.esl.adapters.own import EslClient
from dialer.esl.events import EVENT_TYPES, Event, parse_event, parse_events
from dialer.esl.ports import EslDisconnected, EslRefused, EslTimeout, Subscription
from tests.support.transcripts import transcript_frames

AUTH_REQUEST = b"Content-Type: auth/request\n\n"
SUB = Subscription(
    events=("CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "HEARTBEAT"),
    custom=("callcenter::info",),
    filters=(("Call-Direction", "outbound"),),
)


def reply(text: str, extra: str = "") -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n{extra}\n".encode()


def api_response(text: str) -> bytes:
    body = text.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(body) + body


Handler = Callable[["Peer"], None]
MakeClient = Callable[..., tuple[EslClient, "ScriptedServer", list[Event]]]


class Peer:
    """One accepted connection of the scripted server."""

    def __init__(self, sock: socket.socket, index: int) -> None:
        self.sock = sock
        self.index = index
        self.commands: list[str] = []
        self._buf = b""

    def read_command(self) -> str:
        while b"\n\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("client went away")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\n\n", 1)
        text = raw.decode()
        if text == "exit":
            raise ConnectionError("client said exit")
        self.commands.append(text)
        return text

    def handshake(self) -> None:
        """auth/request, then +OK to auth and to each subscription command."""
        self.sock.sendall(AUTH_REQUEST)
        assert self.read_command() == "auth ClueCon"
        self.sock.sendall(reply("+OK accepted"))
        for _ in SUB.commands():
            cmd = self.read_command()
            text = "+OK event listener enabled json" if cmd.startswith("event") else "+OK"
            self.sock.sendall(reply(text))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


class ScriptedServer:
    """Accepts connections on a free port; connection N is served by ``handlers[N]``
    (the last handler serves every later one)."""

    def __init__(self, handlers: list[Handler]) -> None:
        self.handlers = handlers
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.peers: list[Peer] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            peer = Peer(sock, len(self.peers))
            self.peers.append(peer)
            handler = self.handlers[min(peer.index, len(self.handlers) - 1)]
            threading.Thread(target=self._serve, args=(handler, peer), daemon=True).start()

    @staticmethod
    def _serve(handler: Handler, peer: Peer) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            handler(peer)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for peer in self.peers:
            peer.sock.close()


def idle(peer: Peer) -> None:
    peer.handshake()
    while True:
        peer.read_command()


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    made: list[tuple[EslClient, ScriptedServer]] = []

    def make(
        handlers: list[Handler], **kwargs: float
    ) -> tuple[EslClient, ScriptedServer, list[Event]]:
        server = ScriptedServer(handlers)
        events: list[Event] = []
        client = EslClient(
            "fs1",
            "127.0.0.1",
            server.port,
            "ClueCon",
            SUB,
            events.append,
            backoff_initial_s=kwargs.pop("backoff_initial_s", 0.05),
            **kwargs,
        ).start()
        made.append((client, server))
        assert client.wait_connected(5)
        return client, server, events

    yield make
    for client, server in made:
        client.close()
        server.close()


def test_subscription_commands_list_custom_last_and_keep_background_job() -> None:
    assert SUB.commands() == [
        "event json CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB HEARTBEAT CUSTOM callcenter::info",
        "filter Call-Direction outbound",
        "filter Event-Name BACKGROUND_JOB",
        "filter Event-Name HEARTBEAT",
    ]


def test_every_subscription_hears_background_jobs_and_heartbeats() -> None:
    """The pacer subscribes to nothing of its own: it still gets its bgapi results and the
    heartbeats its watchdog needs."""
    assert Subscription(events=()).commands() == ["event json BACKGROUND_JOB HEARTBEAT"]
    assert Subscription(events=("CHANNEL_ANSWER",), custom=("callcenter::info",)).commands() == [
        "event json CHANNEL_ANSWER BACKGROUND_JOB HEARTBEAT CUSTOM callcenter::info"
    ]
    assert Subscription(events=("ALL",)).commands() == ["event json ALL"]
    beat = Event({"Event-Name": "HEARTBEAT"})
    assert Subscription(events=()).wants(beat)
    assert Subscription(events=("CHANNEL_ANSWER",), filters=(("Call-Direction", "x"),)).wants(beat)


def test_handshake_sends_auth_and_subscription(make_client: MakeClient) -> None:
    _client, server, _ = make_client([idle])
    assert server.peers[0].commands == ["auth ClueCon", *SUB.commands()]


def test_api_reply_and_fifo_matching(make_client: MakeClient) -> None:
    def serve(peer: Peer) -> None:
        peer.handshake()
        while True:
            cmd = peer.read_command()
            peer.send(api_response(cmd.split(" ", 2)[2] + "\n"))

    client, _, _ = make_client([serve])
    results: dict[int, str] = {}

    def call(i: int) -> None:
        results[i] = client.api(f"echo {i}", timeout_s=5)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"{i}\n" for i in range(40)}


def test_command_with_newline_is_refused(make_client: MakeClient) -> None:
    client, _, _ = make_client([idle])
    with pytest.raises(ValueError):
        client.api("status\n\napi hupall")
    with pytest.raises(ValueError):
        client.bgapi("originate x\nJob-UUID: y")


def test_api_times_out(make_client: MakeClient) -> None:
    client, _, _ = make_client([idle])
    started = time.monotonic()
    with pytest.raises(EslTimeout):
        client.api("status", timeout_s=0.3)
    assert 0.3 <= time.monotonic() - started < 1.0


def test_disconnect_mid_command_fails_it_at_once_and_reconnects(make_client: MakeClient) -> None:
    def hang_up_on_api(peer: Peer) -> None:
        peer.handshake()
        peer.read_command()
        peer.sock.shutdown(socket.SHUT_RDWR)
        peer.sock.close()

    connects: list[float] = []
    client, server, _ = make_client([hang_up_on_api, idle])
    client._on_connect = lambda: connects.append(time.monotonic())
    job = client.bgapi("status", timeout_s=30)
    started = time.monotonic()
    with pytest.raises(EslDisconnected):
        client.api("status", timeout_s=10)
    assert time.monotonic() - started < 1.0
    with pytest.raises(EslDisconnected):
        job.result(timeout=1)
    deadline = time.monotonic() + 5
    while client.connects < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.connects == 2 and client.connected
    assert server.peers[1].commands == ["auth ClueCon", *SUB.commands()]
    time.sleep(0.1)
    assert len(connects) == 1


def test_commands_while_down_fail_at_once() -> None:
    events: list[Event] = []
    client = EslClient("fs1", "127.0.0.1", 9, "ClueCon", SUB, events.append, connect_timeout_s=0.2)
    client.start()
    try:
        with pytest.raises(EslDisconnected):
            client.api("status", timeout_s=5)
        with pytest.raises(EslDisconnected):
            client.bgapi("status").result(timeout=1)
    finally:
        client.close()


def test_refused_subscription_is_reported_and_retried(make_client: MakeClient) -> None:
    def bad_password(peer: Peer) -> None:
        peer.send(AUTH_REQUEST)
        peer.read_command()
        peer.send(reply("-ERR invalid"))
        peer.sock.close()

    server = ScriptedServer([bad_password])
    client = EslClient("fs1", "127.0.0.1", server.port, "x", SUB, lambda e: None)
    client._backoff_initial_s = 0.05
    client.start()
    try:
        time.sleep(0.5)
        assert not client.connected
        assert len(server.peers) >= 2
    finally:
        client.close()
        server.close()
    assert issubclass(EslRefused, Exception)


def _job_frame(job_uuid: str) -> bytes:
    """The BACKGROUND_JOB frame of transcript b with its Job-UUID replaced (same length)."""
    for frame in transcript_frames("b_busy_486"):
        if frame.content_type in EVENT_TYPES and parse_event(frame).name == "BACKGROUND_JOB":
            old = parse_event(frame).get("Job-UUID")
            body = frame.body.replace(old.encode(), job_uuid.encode())
            head = b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body)
            return head + body
    raise AssertionError("no BACKGROUND_JOB in transcript b")


def test_bgapi_matched_by_job_uuid_with_body_parsed(make_client: MakeClient) -> None:
    def serve(peer: Peer) -> None:
        peer.handshake()
        while True:
            cmd = peer.read_command()
            job_uuid = cmd.split("Job-UUID: ")[1]
            peer.send(reply(f"+OK Job-UUID: {job_uuid}", f"Job-UUID: {job_uuid}\n"))
            peer.send(_job_frame(job_uuid))

    client, _, events = make_client([serve])
    results = [client.bgapi("originate x y") for _ in range(5)]
    assert [r.result(timeout=5).text for r in results] == ["-ERR USER_BUSY"] * 5
    assert all(not r.result().ok and r.result().detail == "USER_BUSY" for r in results)
    assert [e.name for e in events] == ["BACKGROUND_JOB"] * 5


def test_bgapi_refused_ack_and_job_timeout(make_client: MakeClient) -> None:
    def serve(peer: Peer) -> None:
        peer.handshake()
        peer.read_command()
        peer.send(reply("-ERR no such thing"))
        while True:
            cmd = peer.read_command()
            job_uuid = cmd.split("Job-UUID: ")[1]
            peer.send(reply(f"+OK Job-UUID: {job_uuid}", f"Job-UUID: {job_uuid}\n"))

    client, _, _ = make_client([serve])
    with pytest.raises(EslRefused):
        client.bgapi("x").result(timeout=2)
    started = time.monotonic()
    with pytest.raises(EslTimeout):
        client.bgapi("originate y z", timeout_s=0.3).result(timeout=3)
    assert time.monotonic() - started < 1.0


def test_heartbeat_watchdog_reconnects_a_silent_connection(make_client: MakeClient) -> None:
    client, server, _ = make_client([idle], heartbeat_timeout_s=0.3)
    deadline = time.monotonic() + 5
    while client.connects < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.connects >= 2
    assert len(server.peers) >= 2


@pytest.mark.parametrize(
    "name", ["a_answered_bridged_to_agent", "a_answered_bridged_to_agent.json"]
)
def test_events_replayed_in_random_chunks_arrive_intact(make_client: MakeClient, name: str) -> None:
    frames = transcript_frames(name)
    expected = parse_events(frames)
    stream = b"".join(
        b"Content-Length: %d\nContent-Type: %s\n\n" % (len(f.body), f.content_type.encode())
        + f.body
        for f in frames
        if f.content_type in EVENT_TYPES
    )
    rng = random.Random(4)

    def serve(peer: Peer) -> None:
        peer.handshake()
        pos = 0
        while pos < len(stream):
            size = rng.randint(1, 5000)
            peer.send(stream[pos : pos + size])
            pos += size
        while True:
            peer.read_command()

    _client, _, events = make_client([serve])
    deadline = time.monotonic() + 5
    while len(events) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert events == expected


def test_a_late_reply_never_answers_the_next_command(make_client: MakeClient) -> None:
    def slow_first(peer: Peer) -> None:
        peer.handshake()
        first = peer.read_command()
        time.sleep(0.5)
        peer.send(api_response(first + " reply"))
        while True:
            cmd = peer.read_command()
            peer.send(api_response(cmd + " reply"))

    client, _, _ = make_client([slow_first])
    with pytest.raises(EslTimeout):
        client.api("first", timeout_s=0.2)
    assert client.api("second", timeout_s=3) == "api second reply"
    assert client.api("third", timeout_s=3) == "api third reply"


def test_a_malformed_event_is_dropped_not_the_connection(make_client: MakeClient) -> None:
    bad = b"{not json"
    good = b'{"Event-Name":"HEARTBEAT"}'

    def serve(peer: Peer) -> None:
        peer.handshake()
        for body in (bad, good):
            peer.send(b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(body) + body)
        while True:
            peer.read_command()

    client, _, events = make_client([serve])
    deadline = time.monotonic() + 3
    while not events and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e.name for e in events] == ["HEARTBEAT"]
    assert client.connects == 1 and client.connected
