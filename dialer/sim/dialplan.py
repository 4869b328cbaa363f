"""The campaign dialplan: the DNC guard (a listed dialled number is hung up CALL_REJECTED),
``answer``, ``set hangup_after_bridge=true``, ``callcenter <queue>``,
then (when the member left the queue without an agent) a safe-harbor ``playback`` and
``hangup NORMAL_CLEARING`` — as the lab's ``cc_sales2s`` extension in the transcripts.

Without a callcenter engine the ``callcenter`` application does not exist: FreeSWITCH then
hangs the channel up with DESTINATION_OUT_OF_ORDER ("Invalid Application").
"""

from __future__ import annotations

import re

from dialer.sim.channel import Channel
from dialer.sim.records import CallRecord
from dialer.sim.scenario import Extension
from dialer.sim.switch import SimSwitch
from fs_conf.dnc import DNC_EXTENSION, DNC_HANGUP_CAUSE

__all__ = ["Dialplan"]


class Dialplan:
    """Executes scenario extensions on answered customer legs (a `DialplanRunner`)."""

    def __init__(self, switch: SimSwitch) -> None:
        self.sw = switch
        switch.hangups.after_unbridge = self._after_bridge

    def run(self, ch: Channel, extension: str, context: str, record: CallRecord) -> None:
        """Run ``extension``@``context``; unknown extensions hang up NO_ROUTE_DESTINATION."""
        sw = self.sw
        ext = sw.scenario.extension(extension, context)
        if ext is None:
            sw.hangups.hang_up(ch, "NO_ROUTE_DESTINATION")
            return
        if self._dnc_listed(ext, record.number):
            sw.channels.run_briefly(ch, "execute_extension", f"{DNC_EXTENSION} XML {context}")
            sw.channels.execute(ch, "hangup", DNC_HANGUP_CAUSE)
            sw.hangups.hang_up(ch, DNC_HANGUP_CAUSE)
            return
        if ext.answer:
            sw.channels.run_briefly(ch, "answer", "")
        if ext.hangup_after_bridge:
            sw.channels.run_briefly(ch, "set", "hangup_after_bridge=true")
            ch.variables["hangup_after_bridge"] = "true"
            ch.hangup_after_bridge = True
        if ext.queue is None:
            self._safe_harbor(ch, ext)
            return
        engine = sw.engine
        if engine is None:
            sw.hangups.hang_up(ch, "DESTINATION_OUT_OF_ORDER")
            return
        sw.channels.execute(ch, "callcenter", ext.queue)
        record.queue = ext.queue
        record.queue_joined_s = sw.now_s()
        engine.enter_queue(ch.uuid, ext.queue, lambda cause: self._left_queue(ch, ext, cause))

    def _dnc_listed(self, ext: Extension, number: str) -> bool:
        """The DNC guard of fs_conf.dnc: the list (whole entries, as mod_blacklist matches)
        or the prefixes' regular expression, over the dialled number."""
        listed = self.sw.scenario.blacklists.get(ext.dnc_list or "", frozenset())
        if number in listed:
            return True
        # FreeSWITCH runs a condition's expression as a PCRE search; the rendered one is anchored
        return bool(ext.dnc_prefix_regex and re.search(ext.dnc_prefix_regex, number))

    def _after_bridge(self, ch: Channel) -> None:
        """The agent left and the customer stays (``hangup_after_bridge`` false): the
        extension continues after ``callcenter`` (safe-harbor message, hangup)."""
        ext = self.sw.scenario.extension(
            ch.profile.get("Destination-Number", ""), ch.profile.get("Context", "")
        )
        if ext is None:
            self._hangup_app(ch)
        else:
            self._safe_harbor(ch, ext)

    def _left_queue(self, ch: Channel, ext: Extension, cc_cause: str) -> None:
        record = self.sw.records.get(ch.uuid)
        if record is not None:
            record.queue_left_s = self.sw.now_s()
            record.cc_cancel_reason = ch.variables.get("cc_cancel_reason", "")
        if not ch.is_up:
            return
        if ch.application == "callcenter":
            self.sw.channels.complete(ch)
        if cc_cause == "answered" or ch.bridged_to is not None:
            return
        self._safe_harbor(ch, ext)

    def _safe_harbor(self, ch: Channel, ext: Extension) -> None:
        if ext.after_queue_playback is None:
            self._hangup_app(ch)
            return
        sw = self.sw
        file = ext.after_queue_playback
        sw.channels.execute(ch, "playback", file)
        sw.media.playback(ch.uuid, file)

        def done() -> None:
            sw.media.stop_playback(ch.uuid)
            sw.channels.complete(ch)
            self._hangup_app(ch)

        sw.channels.later(ch, ext.after_queue_playback_s, done)

    def _hangup_app(self, ch: Channel) -> None:
        if ch.is_up:
            self.sw.channels.execute(ch, "hangup", "NORMAL_CLEARING")
            self.sw.hangups.hang_up(ch, "NORMAL_CLEARING")
