"""Media on the simulated switch: codec negotiation (CODEC events, the codec block of the
channel data) and file playback (PLAYBACK_START / PLAYBACK_STOP with the playback_* variables).

Invariant: a channel plays at most one file at a time, and PLAYBACK_STOP follows a
PLAYBACK_START at most once; the played length is measured in simulated time at 8 kHz.
"""

from __future__ import annotations

from dialer.sim.bus import EventBus
from dialer.sim.channel import Channel, media_variables, playback_headers
from dialer.sim.channel_table import ChannelTable
from dialer.sim.clock import SimClock

__all__ = ["Media"]


class Media:
    """Codecs and playback of the channels in ``channels``."""

    def __init__(self, clock: SimClock, bus: EventBus, channels: ChannelTable) -> None:
        self._clock = clock
        self._bus = bus
        self._channels = channels
        self._playing: dict[str, str] = {}
        self._playing_since: dict[str, float] = {}

    def media_up(self, ch: Channel) -> None:
        """Codecs negotiated: two CODEC events, then the codec block in channel data."""
        ch.media_up = True
        # derived from the uuid: drawing from the RNG here would tie the draw sequence to timing
        for name, value in media_variables(int(ch.uuid.replace("-", "")[:8], 16)):
            ch.variables.setdefault(name, value)
        self._bus.channel_event(
            ch,
            "CODEC",
            with_vars=False,
            site_key="CODEC_READ",
            extra=[
                ("channel-read-codec-name", "PCMU"),
                ("channel-read-codec-rate", "8000"),
                ("channel-read-codec-bit-rate", "64000"),
            ],
        )
        self._bus.channel_event(
            ch,
            "CODEC",
            with_vars=False,
            site_key="CODEC_WRITE",
            extra=[
                ("Channel-Write-Codec-Name", "PCMU"),
                ("Channel-Write-Codec-Rate", "8000"),
                ("Channel-Write-codec-bit-rate", "64000"),
            ],
        )

    def playback(self, uuid: str, file: str) -> None:
        """PLAYBACK_START on a live channel; it plays until `stop_playback`."""
        ch = self._channels.get(uuid)
        if ch is None or not ch.is_up:
            return
        self._playing[uuid] = file
        self._playing_since[uuid] = self._clock.now_s()
        self._bus.channel_event(ch, "PLAYBACK_START", extra=playback_headers(file))

    def stop_playback(self, uuid: str) -> None:
        """PLAYBACK_STOP for what `playback` started (a no-op if nothing plays)."""
        file = self._playing.pop(uuid, None)
        ch = self._channels.get(uuid)
        if file is None or ch is None:
            return
        now_s = self._clock.now_s()
        played_ms = int((now_s - self._playing_since.pop(uuid, now_s)) * 1000)
        ch.variables["playback_last_offset_pos"] = str(played_ms * 8)
        ch.variables["playback_seconds"] = str(played_ms // 1000)
        ch.variables["playback_ms"] = str(played_ms)
        ch.variables["playback_samples"] = str(played_ms * 8)
        self._bus.channel_event(
            ch, "PLAYBACK_STOP", extra=[*playback_headers(file), ("Playback-Status", "done")]
        )

    def forget(self, uuid: str) -> None:
        """The channel is gone: what it played stops silently."""
        self._playing.pop(uuid, None)
        self._playing_since.pop(uuid, None)
