"""Simulated FreeSWITCH events: core headers, calling-site table, serialisation cache.

``CALLING_SITES`` copies ``Event-Calling-File/-Function/-Line-Number`` from the transcripts
(FreeSWITCH 1.10.12). Invariant: an `SimEvent` is immutable once emitted; its plain/json
serialisations are computed at most once and shared by all connections.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from dialer.sim.eventfmt import serialize_json, serialize_plain

__all__ = ["CALLING_SITES", "CoreIdentity", "SimEvent", "core_headers"]

CALLING_SITES: dict[str, tuple[str, str, int]] = {
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", 768),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", 2408),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", 626),
    "CHANNEL_ORIGINATE": ("switch_core_state_machine.c", "switch_core_session_run", 632),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3505),
    "CHANNEL_PROGRESS_MEDIA": (
        "switch_channel.c",
        "switch_channel_perform_mark_pre_answered",
        3560,
    ),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", 301),
    "CODEC_READ": ("switch_core_codec.c", "switch_core_session_set_real_read_codec", 168),
    "CODEC_WRITE": ("switch_core_codec.c", "switch_core_session_set_write_codec", 450),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", 3846),
    "API": ("switch_loadable_module.c", "switch_api_execute", 2954),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", 1572),
    "CALL_UPDATE": ("switch_channel.c", "switch_channel_flip_cid", 3277),
    "CALL_UPDATE_SOFIA": ("mod_sofia.c", "sofia_receive_message", 2100),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", 2944),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", 2967),
    "CHANNEL_EXECUTE_BRIDGE_A": ("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", 1236),
    "CHANNEL_EXECUTE_BRIDGE_B": ("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", 1243),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", 1646),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", 2020),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", 3445),
    "CHANNEL_HANGUP_COMPLETE": (
        "switch_core_state_machine.c",
        "switch_core_session_reporting_state",
        943,
    ),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", 1584),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", 95),
    "RE_SCHEDULE": ("switch_scheduler.c", "switch_scheduler_execute", 73),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", 1002),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", 1213),
}


@dataclass
class SimEvent:
    """One event: ``headers`` are (name, raw value) in wire order; ``body`` optional."""

    name: str
    subclass: str | None
    headers: list[tuple[str, str]]
    body: str | None = None
    _plain: str | None = field(default=None, repr=False)
    _json: str | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (raw), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def serialized(self, fmt: str) -> str:
        """Plain or JSON text (cached)."""
        if fmt == "json":
            if self._json is None:
                self._json = serialize_json(self.headers, self.body)
            return self._json
        if self._plain is None:
            self._plain = serialize_plain(self.headers, self.body)
        return self._plain


@dataclass(frozen=True)
class CoreIdentity:
    """Values of the core headers that do not change during a run."""

    core_uuid: str
    hostname: str = "vm"
    ipv4: str = "127.0.0.1"
    ipv6: str = "::1"


@functools.lru_cache(maxsize=4)
def _dates(secs: int) -> tuple[str, str]:
    tm = time.gmtime(secs)
    return time.strftime("%Y-%m-%d %H:%M:%S", tm), time.strftime("%a, %d %b %Y %H:%M:%S GMT", tm)


def core_headers(
    identity: CoreIdentity,
    name: str,
    subclass: str | None,
    now_us: int,
    sequence: int,
    site: tuple[str, str, int],
) -> list[tuple[str, str]]:
    """``Event-Subclass`` (CUSTOM only, first), ``Event-Name``, core and date headers,
    calling site and sequence, in FreeSWITCH's order. Dates are printed in UTC."""
    local, gmt = _dates(now_us // 1_000_000)
    headers: list[tuple[str, str]] = []
    if subclass is not None:
        headers.append(("Event-Subclass", subclass))
    headers += [
        ("Event-Name", name),
        ("Core-UUID", identity.core_uuid),
        ("FreeSWITCH-Hostname", identity.hostname),
        ("FreeSWITCH-Switchname", identity.hostname),
        ("FreeSWITCH-IPv4", identity.ipv4),
        ("FreeSWITCH-IPv6", identity.ipv6),
        ("Event-Date-Local", local),
        ("Event-Date-GMT", gmt),
        ("Event-Date-Timestamp", str(now_us)),
        ("Event-Calling-File", site[0]),
        ("Event-Calling-Function", site[1]),
        ("Event-Calling-Line-Number", str(site[2])),
        ("Event-Sequence", str(sequence)),
    ]
    return headers
