"""Replay an ESL transcript against the simulator and compare the two byte streams.

The same commands are sent at the same (scaled) times on a raw TCP connection; transcript
uuids in commands are replaced by the simulator's uuid at the same position of first
appearance. The comparison looks at:

* replies: every ``command/reply`` Reply-Text and ``api/response`` body, with uuids and
  digits normalised;
* events: the sequence of event keys (Event-Name, CC-Action, Application, leg index),
  HEARTBEAT / RE_SCHEDULE / PRESENCE_IN / log frames excluded;
* header names: for events matched in order by key, the non-``variable_`` header names, and
  the presence of the variables the dialer reads (`KEY_VARIABLE_PREFIXES`).
"""

from __future__ import annotations

import asyncio
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dialer.esl.events import (
    CT_API_RESPONSE,
    CT_AUTH_REQUEST,
    CT_COMMAND_REPLY,
    EVENT_TYPES,
    Event,
    parse_event,
    parse_events,
)
from dialer.esl.frames import Frame, parse_frames
from dialer.esl.originate import UUID_RE
from dialer.sim.simulator import Simulator

IGNORED_EVENTS = frozenset({"HEARTBEAT", "RE_SCHEDULE", "PRESENCE_IN", "API"})
SENT_RE = re.compile(r"\s*([0-9.]+)\s+@byte\s+\d+\s+>>\s(.*)")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Command:
    """A command sent ``at_s`` seconds (transcript time) after connecting."""

    at_s: float
    text: str


def read_sent(path: Path) -> list[Command]:
    """Commands of a ``*.sent.txt`` companion file."""
    out: list[Command] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = SENT_RE.fullmatch(line)
        if m:
            out.append(Command(float(m.group(1)), m.group(2)))
    return out


def normalise(text: str) -> str:
    """Replace uuids and digit runs so that ids and times do not matter."""
    return _DIGITS.sub("N", UUID_RE.sub("<uuid>", text))


def reply_texts(frames: Sequence[Frame]) -> list[str]:
    """Normalised replies in order (command/reply and api/response)."""
    out: list[str] = []
    for f in frames:
        if f.content_type == CT_COMMAND_REPLY:
            out.append("reply: " + normalise(f.reply_text))
        elif f.content_type == CT_API_RESPONSE:
            out.append("api: " + normalise(f.body_text()))
    return out


def log_lines(frames: Sequence[Frame]) -> list[str]:
    """``log/data`` frames as ``file:line message`` (time and CPU load removed)."""
    out: list[str] = []
    for f in frames:
        if f.content_type == "log/data":
            text = f.body.decode("utf-8", "replace").strip()
            out.append(text.split("] ", 1)[-1])
    return out


def events_of(frames: Sequence[Frame]) -> list[Event]:
    """Decoded events, ignoring the noise types."""
    return [ev for ev in parse_events(frames) if ev.name not in IGNORED_EVENTS]


def event_keys(events: Sequence[Event], *, legs_by_name: bool = False) -> list[str]:
    """One comparable key per event. Legs are numbered in order of first appearance, or, with
    ``legs_by_name``, named by channel name and rank (two agents ringing at once then compare
    by who they are, not by whose CHANNEL_CREATE came first)."""
    legs: dict[str, str] = {}
    per_name: dict[str, int] = {}
    keys: list[str] = []
    for ev in events:
        uid = ev.uuid
        if uid and uid not in legs:
            name = ev.get("Channel-Name") if legs_by_name else ""
            per_name[name] = per_name.get(name, -1) + 1
            legs[uid] = f"{name}#{per_name[name]}" if name else str(per_name[name])
        parts = [ev.name]
        for name in ("CC-Action", "Application", "Channel-State", "Hangup-Cause"):
            value = ev.get(name)
            if value and (name != "Channel-State" or ev.name == "CHANNEL_STATE"):
                parts.append(value)
        if ev.name == "BACKGROUND_JOB":
            parts.append(normalise((ev.body or "").strip()))
        if uid:
            parts.append(f"leg:{legs[uid]}")
        keys.append(" ".join(parts))
    return keys


def uuid_order(frames: Sequence[Frame]) -> list[str]:
    """Channel uuids in order of first appearance (events' Unique-ID, bare uuid replies)."""
    seen: list[str] = []
    for f in frames:
        candidates: list[str] = []
        if f.content_type in EVENT_TYPES:
            candidates = [parse_event(f).uuid]
        elif f.content_type == CT_API_RESPONSE:
            body = f.body_text().strip()
            candidates = UUID_RE.findall(body)[:1] if len(body) <= 41 else []
        for c in candidates:
            if c and c not in seen:
                seen.append(c)
    return seen


@dataclass
class Comparison:
    """Result of a replay."""

    expected_replies: list[str]
    got_replies: list[str]
    expected_keys: list[str]
    got_keys: list[str]
    expected_logs: list[str] = field(default_factory=list)
    got_logs: list[str] = field(default_factory=list)
    header_diffs: list[str] = field(default_factory=list)
    variable_diffs: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    @property
    def event_ratio(self) -> float:
        """Similarity of the event key sequences (1.0 = identical)."""
        return difflib.SequenceMatcher(None, self.expected_keys, self.got_keys).ratio()

    def event_diff(self) -> str:
        """Unified diff of the event key sequences."""
        return "\n".join(
            difflib.unified_diff(
                self.expected_keys, self.got_keys, "transcript", "sim", lineterm=""
            )
        )


KEY_VARIABLE_PREFIXES = (
    "variable_cc_",
    "variable_dialer_",
    "variable_hangup_cause",
    "variable_sip_term_",
    "variable_sip_invite_failure_",
    "variable_sip_hangup_disposition",
    "variable_sip_gateway_name",
    "variable_origination_",
    "variable_originate_",
    "variable_ignore_early_media",
    "variable_start_",
    "variable_answer_",
    "variable_end_",
    "variable_billsec",
    "variable_duration",
    "variable_progress",
    "variable_waitsec",
)
"""Variables the dialer reads; they must be present wherever FreeSWITCH sets them."""


def compare(
    expected: Sequence[Frame], got: Sequence[Frame], *, legs_by_name: bool = False
) -> Comparison:
    """Compare two streams (see module docstring)."""
    exp_events, got_events = events_of(expected), events_of(got)
    cmp = Comparison(
        reply_texts(expected),
        reply_texts(got),
        event_keys(exp_events, legs_by_name=legs_by_name),
        event_keys(got_events, legs_by_name=legs_by_name),
        log_lines(expected),
        log_lines(got),
    )
    pool: dict[str, list[Event]] = {}
    for key, ev in zip(cmp.got_keys, got_events, strict=True):
        pool.setdefault(key, []).append(ev)
    for key, ev in zip(cmp.expected_keys, exp_events, strict=True):
        candidates = pool.get(key)
        if not candidates:
            continue
        mine = candidates.pop(0)
        want = {n for n in ev.headers if not n.startswith("variable_")}
        have = {n for n in mine.headers if not n.startswith("variable_")}
        if want != have:
            cmp.header_diffs.append(
                f"{key}: missing {sorted(want - have)} extra {sorted(have - want)}"
            )
        key_vars = {n for n in ev.headers if n.startswith(KEY_VARIABLE_PREFIXES)}
        missing = key_vars - mine.headers.keys()
        if missing:
            cmp.variable_diffs.append((key, frozenset(missing)))
    return cmp


def count_replies(data: bytes) -> int:
    """Replies (command/reply, api/response) in a received stream, auth/request included."""
    return sum(
        f.content_type in (CT_COMMAND_REPLY, CT_API_RESPONSE, CT_AUTH_REQUEST)
        for f in parse_frames(data)
    )


async def _wait_replies(
    received: bytearray, arrived: asyncio.Event, wanted: int, timeout_s: float
) -> None:
    """Wait until the previous commands were answered (``wanted`` replies + auth/request)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while count_replies(bytes(received)) < wanted + 1 and loop.time() < deadline:
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), timeout=max(0.0, deadline - loop.time()))
        except TimeoutError:
            return


async def replay(
    sim: Simulator,
    commands: Sequence[Command],
    transcript: Sequence[Frame],
    *,
    speed: float = 1.0,
    tail_s: float = 0.5,
) -> list[Frame]:
    """Send ``commands`` to a started simulator; return the frames it sent back."""
    reader, writer = await asyncio.open_connection(sim.host, sim.port_number)
    received = bytearray()
    arrived = asyncio.Event()

    async def pump() -> None:
        while chunk := await reader.read(65536):
            received.extend(chunk)
            arrived.set()

    task = asyncio.create_task(pump())
    theirs = uuid_order(transcript)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for sent, cmd in enumerate(commands):
        await _wait_replies(received, arrived, sent, timeout_s=30.0)
        delay = start + cmd.at_s / speed - loop.time()
        if cmd.text == "exit":
            delay = max(delay, tail_s)
        if delay > 0:
            await asyncio.sleep(delay)
        mine = uuid_order(parse_frames(bytes(received)))
        text = cmd.text
        for idx, uid in enumerate(theirs):
            if uid in text and idx < len(mine) and uid not in mine:
                text = text.replace(uid, mine[idx])
        writer.write((text + "\n\n").encode("utf-8"))
        await writer.drain()
    try:
        await asyncio.wait_for(task, timeout=5.0)
    except TimeoutError:
        task.cancel()
    writer.close()
    return parse_frames(bytes(received))
