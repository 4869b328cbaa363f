"""API commands of the simulated switch (``api`` / ``bgapi``), replies worded as FreeSWITCH's.

Every reply text is copied from the transcripts (f, l, l2, n, g, x) or, where they are silent,
from FreeSWITCH's mod_commands / mod_sofia sources. ``run`` calls ``done(text)`` exactly once;
``originate`` completes later, everything else at once.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.sim.api_show import show_reply, sofia_reply
from dialer.sim.channel import channel_data
from dialer.sim.eventfmt import serialize_plain
from dialer.sim.events import core_headers
from dialer.sim.originate_parse import OriginateError, parse_originate
from dialer.sim.originator import SimOriginator
from dialer.sim.switch import SimSwitch
from dialer.sim.xml_locate import xml_locate_reply

__all__ = ["Api", "Done"]

Done = Callable[[str], None]
"""Receives an API command's reply body."""
_NO_CHANNEL = "-ERR No such channel!\n"


class Api:
    """Dispatches API commands to the switch."""

    def __init__(self, switch: SimSwitch, originator: SimOriginator) -> None:
        self.sw = switch
        self.originator = originator

    def run(self, cmd: str, args: str, done: Done) -> None:
        """Execute ``cmd args``; ``done(reply)`` receives the exact response body."""
        if cmd == "originate":
            parsed = parse_originate(args)
            if isinstance(parsed, OriginateError):
                done(parsed.reply + "\n")
                return
            self.originator.originate(parsed, done)
            return
        handler = getattr(self, "cmd_" + cmd, None)
        if handler is None:
            done(f"-ERR {cmd} Command not found!\n")
            return
        done(handler(args.strip()))

    # --- simple commands -------------------------------------------------------------------
    def cmd_create_uuid(self, args: str) -> str:
        """A fresh uuid, no newline."""
        return self.sw.new_uuid()

    def cmd_uuid_kill(self, args: str) -> str:
        """``uuid_kill <uuid> [cause]``."""
        parts = args.split()
        if not parts:
            return "-USAGE: <uuid> [cause]\n"
        cause = parts[1] if len(parts) > 1 else "NORMAL_CLEARING"
        return "+OK\n" if self.originator.kill(parts[0], cause) else _NO_CHANNEL

    def cmd_uuid_getvar(self, args: str) -> str:
        """``uuid_getvar <uuid> <var>``: the raw value or ``_undef_``."""
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <var>\n"
        if parts[0] not in self.sw.channels:
            return _NO_CHANNEL
        return self.sw.channel_vars(parts[0]).get(parts[1], "_undef_")

    def cmd_uuid_setvar(self, args: str) -> str:
        """``uuid_setvar <uuid> <var> [value]`` (no value unsets)."""
        parts = args.split(" ", 2)
        if len(parts) < 2:
            return "-USAGE: <uuid> <var> [value]\n"
        ch = self.sw.channels.get(parts[0])
        if ch is None:
            return _NO_CHANNEL
        if len(parts) == 3:
            ch.variables[parts[1]] = parts[2]
        else:
            ch.variables.pop(parts[1], None)
        return "+OK\n"

    def cmd_uuid_dump(self, args: str) -> str:
        """``uuid_dump <uuid>``: a plain CHANNEL_DATA event."""
        ch = self.sw.channels.get(args.split(" ")[0] if args else "")
        if ch is None:
            return _NO_CHANNEL
        sw = self.sw
        sequence = sw.bus.next_sequence()
        site = ("mod_commands.c", "uuid_dump_function", 6468)
        hdrs = core_headers(
            sw.bus.identity, "CHANNEL_DATA", None, sw.clock.now_us(), sequence, site
        )
        other = sw.channels.get(ch.other_uuid or "")
        hdrs += channel_data(ch, other, with_variables=True)
        return serialize_plain(hdrs)

    def cmd_hupall(self, args: str) -> str:
        """``hupall [cause]``."""
        cause = args.split()[0] if args else "MANAGER_REQUEST"
        for ch in list(self.sw.channels.values()):
            if ch.is_up:
                self.originator.kill(ch.uuid, cause)
        return f"+OK hangup all channels with cause {cause}\n"

    def cmd_global_getvar(self, args: str) -> str:
        """``global_getvar [name]``."""
        if not args:
            return "".join(f"{k}={v}\n" for k, v in self.sw.global_vars.items())
        return self.sw.global_vars.get(args, "")

    def cmd_fsctl(self, args: str) -> str:
        """``fsctl sps [N]`` / ``fsctl max_sessions [N]`` (N <= 0 ignored for sps)."""
        parts = args.split()
        c = self.sw.admission
        if parts and parts[0] == "sps":
            if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) > 0:
                c.sps_limit = int(parts[1])
            return f"+OK sessions per second: {c.sps_limit}\n"
        if parts and parts[0] == "max_sessions":
            if len(parts) > 1 and parts[1].isdigit():
                c.max_sessions = int(parts[1])
            return f"+OK max sessions: {c.max_sessions}\n"
        return "-ERR INVALID COMMAND\n"

    def cmd_callcenter_config(self, args: str) -> str:
        """Delegated to the callcenter engine; absent module → command not found."""
        if self.sw.engine is None:
            return "-ERR callcenter_config Command not found!\n"
        return self.sw.engine.api(args)

    def cmd_status(self, args: str) -> str:
        """The ``status`` text."""
        sw = self.sw
        c = sw.admission
        up_us = int((sw.now_s() - c.started_s) * 1_000_000)
        secs, usec = divmod(up_us, 1_000_000)
        parts = [
            (secs // (365 * 86400), "year"),
            (secs // 86400 % 365, "day"),
            (secs // 3600 % 24, "hour"),
            (secs // 60 % 60, "minute"),
            (secs % 60, "second"),
            (usec // 1000, "millisecond"),
            (usec % 1000, "microsecond"),
        ]
        up = ", ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts)
        live = sw.live_sessions()
        return (
            f"UP {up}\n"
            "FreeSWITCH (Version 1.10.12-release  64bit) is ready\n"
            f"{c.since_startup} session(s) since startup\n"
            f"{live} session(s) - peak {c.peak}, last 5min {c.peak} \n"
            f"{c.sessions_this_second(sw.now_s())} session(s) per Sec "
            f"out of max {c.sps_limit}, peak {c.sps_peak}, last 5min {c.sps_peak} \n"
            f"{c.max_sessions} session(s) max\n"
            "min idle cpu 0.00/99.00\n"
            "Current Stack Size/Max 240K/8192K\n"
        )

    def cmd_show(self, args: str) -> str:
        """``show channels|calls [as json]``."""
        return show_reply(self.sw, args)

    def cmd_xml_locate(self, args: str) -> str:
        """``xml_locate dialplan [context name <context>]`` from the scenario's extensions."""
        return xml_locate_reply(self.sw.scenario.extensions, args)

    def cmd_sofia(self, args: str) -> str:
        """``sofia status`` and ``sofia status gateway <name>``."""
        return sofia_reply(self.sw, args)
