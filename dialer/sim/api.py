"""API commands of the simulated switch (``api`` / ``bgapi``), replies worded as FreeSWITCH's.

Every reply text is copied from the transcripts (f, l, l2, n, g) or, where they are silent,
from FreeSWITCH's mod_commands / mod_sofia sources. ``run`` calls ``done(text)`` exactly once;
``originate`` completes later, everything else at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from dialer.sim.channel import Channel, channel_data
from dialer.sim.eventfmt import serialize_plain
from dialer.sim.events import core_headers
from dialer.sim.flows import Flows
from dialer.sim.originate_parse import OriginateError, parse_originate
from dialer.sim.switch import Switch

Done = Callable[[str], None]
NO_CHANNEL = "-ERR No such channel!\n"
CALL_FIELDS = [
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "hostname",
    "sent_callee_name",
    "sent_callee_num",
]
RULE = "=" * 97
SHOW_USAGE = (
    "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|"
    "channels [count|like <match string>]|calls|detailed_calls|bridged_calls|"
    "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|"
    "interface_types|tasks|limits|status\n"
)


class Api:
    """Dispatches API commands to the switch."""

    def __init__(self, switch: Switch, flows: Flows) -> None:
        self.sw = switch
        self.flows = flows

    def run(self, cmd: str, args: str, done: Done) -> None:
        """Execute ``cmd args``; ``done(reply)`` receives the exact response body."""
        if cmd == "originate":
            parsed = parse_originate(args)
            if isinstance(parsed, OriginateError):
                done(parsed.reply + "\n")
                return
            self.flows.originate(parsed, done)
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
        return "+OK\n" if self.flows.kill(parts[0], cause) else NO_CHANNEL

    def cmd_uuid_getvar(self, args: str) -> str:
        """``uuid_getvar <uuid> <var>``: the raw value or ``_undef_``."""
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <var>\n"
        if parts[0] not in self.sw.channels:
            return NO_CHANNEL
        return self.sw.channel_vars(parts[0]).get(parts[1], "_undef_")

    def cmd_uuid_setvar(self, args: str) -> str:
        """``uuid_setvar <uuid> <var> [value]`` (no value unsets)."""
        parts = args.split(" ", 2)
        if len(parts) < 2:
            return "-USAGE: <uuid> <var> [value]\n"
        ch = self.sw.channels.get(parts[0])
        if ch is None:
            return NO_CHANNEL
        if len(parts) == 3:
            ch.variables[parts[1]] = parts[2]
        else:
            ch.variables.pop(parts[1], None)
        return "+OK\n"

    def cmd_uuid_dump(self, args: str) -> str:
        """``uuid_dump <uuid>``: a plain CHANNEL_DATA event."""
        ch = self.sw.channels.get(args.split(" ")[0] if args else "")
        if ch is None:
            return NO_CHANNEL
        sw = self.sw
        sw.sequence += 1
        site = ("mod_commands.c", "uuid_dump_function", 6468)
        hdrs = core_headers(sw.identity, "CHANNEL_DATA", None, sw.clock.now_us(), sw.sequence, site)
        other = sw.channels.get(ch.other_uuid or "")
        hdrs += channel_data(ch, other, with_variables=True)
        return serialize_plain(hdrs)

    def cmd_hupall(self, args: str) -> str:
        """``hupall [cause]``."""
        cause = args.split()[0] if args else "MANAGER_REQUEST"
        for ch in list(self.sw.channels.values()):
            if ch.is_up:
                self.flows.kill(ch.uuid, cause)
        return f"+OK hangup all channels with cause {cause}\n"

    def cmd_global_getvar(self, args: str) -> str:
        """``global_getvar [name]``."""
        if not args:
            return "".join(f"{k}={v}\n" for k, v in self.sw.global_vars.items())
        return self.sw.global_vars.get(args, "")

    def cmd_fsctl(self, args: str) -> str:
        """``fsctl sps [N]`` / ``fsctl max_sessions [N]`` (N <= 0 ignored for sps)."""
        parts = args.split()
        c = self.sw.counters
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
        c = sw.counters
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
            f"{c.sps_in_window if c.sps_window_s == int(sw.now_s()) else 0} session(s) per Sec "
            f"out of max {c.sps_limit}, peak {c.sps_peak}, last 5min {c.sps_peak} \n"
            f"{c.max_sessions} session(s) max\n"
            "min idle cpu 0.00/99.00\n"
            "Current Stack Size/Max 240K/8192K\n"
        )

    # --- show ---------------------------------------------------------------------------
    def _row(self, ch: Channel) -> dict[str, str]:
        created = int(ch.profile.get("Channel-Created-Time", str(ch.created_us))) // 1_000_000
        return {
            "uuid": ch.uuid,
            "direction": "outbound",
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created)),
            "created_epoch": str(created),
            "name": ch.name,
            "state": ch.state,
            "cid_name": ch.cid_name,
            "cid_num": ch.cid_num,
            "ip_addr": ch.profile.get("Network-Addr", ""),
            "dest": ch.dest,
            "application": ch.application,
            "application_data": ch.application_data,
            "dialplan": ch.profile.get("Dialplan", ""),
            "context": ch.profile.get("Context", ""),
            "read_codec": "PCMU" if ch.media_up else "",
            "read_rate": "8000" if ch.media_up else "",
            "read_bit_rate": "64000" if ch.media_up else "",
            "write_codec": "PCMU" if ch.media_up else "",
            "write_rate": "8000" if ch.media_up else "",
            "write_bit_rate": "64000" if ch.media_up else "",
            "secure": "",
            "hostname": self.sw.scenario.hostname,
            "presence_id": "",
            "presence_data": "",
            "accountcode": "",
            "callstate": ch.callstate,
            "callee_name": ch.profile.get("Callee-ID-Name", ""),
            "callee_num": ch.profile.get("Callee-ID-Number", ""),
            "callee_direction": "SEND" if ch.answered else "",
            "call_uuid": ch.variables.get("call_uuid", ch.uuid),
            "sent_callee_name": ch.profile.get("Callee-ID-Name", ""),
            "sent_callee_num": ch.profile.get("Callee-ID-Number", ""),
            "initial_cid_name": ch.profile.get("Orig-Caller-ID-Name", ""),
            "initial_cid_num": ch.profile.get("Orig-Caller-ID-Number", ""),
            "initial_ip_addr": "",
            "initial_dest": ch.profile.get("RDNIS", ch.dest),
            "initial_dialplan": "",
            "initial_context": "default",
        }

    def _live(self) -> list[Channel]:
        return [ch for ch in self.sw.channels.values() if not ch.destroyed and ch.name != "N/A"]

    def cmd_show(self, args: str) -> str:
        """``show channels|calls [as json]``."""
        words = args.split()
        if not words or words[0] not in ("channels", "calls"):
            return SHOW_USAGE
        as_json = words[-2:] == ["as", "json"]
        rows = self._calls() if words[0] == "calls" else [self._row(ch) for ch in self._live()]
        if as_json:
            if not rows:
                return '{"row_count": 0}\n'
            return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
        if not rows:
            # the column line is printed with the first row only
            return "\n0 total.\n"
        lines = [",".join(rows[0].keys())] + [",".join(r.values()) for r in rows]
        return "\n".join(lines) + f"\n\n{len(rows)} total.\n"

    def _calls(self) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = []
        seen: set[str] = set()
        for ch in self._live():
            if ch.uuid in seen or ch.kind != "customer":
                continue
            full = self._row(ch)
            row = {k: full[k] for k in CALL_FIELDS}
            partner = self.sw.channels.get(ch.bridged_to or "")
            b = self._row(partner) if partner is not None else {}
            if partner is not None:
                seen.add(partner.uuid)
            for key in CALL_FIELDS:
                if key not in ("call_uuid", "hostname"):
                    row["b_" + key] = b.get(key, "")
            bridged = ch.profile.get("Channel-Bridged-Time", "0")
            row["call_created_epoch"] = str(int(bridged) // 1_000_000) if partner else ""
            rows.append(row)
        return rows

    # --- sofia ---------------------------------------------------------------------------
    def cmd_sofia(self, args: str) -> str:
        """``sofia status`` and ``sofia status gateway <name>``."""
        words = args.split()
        if words[:2] == ["status", "gateway"] and len(words) >= 3:
            return self._gateway_status(words[2])
        if words[:1] == ["status"]:
            return self._sofia_status()
        return "-ERR Usage: sofia status\n"

    def _gateway_status(self, name: str) -> str:
        sw = self.sw
        gw = sw.scenario.gateways.get(name)
        if gw is None:
            return "Invalid Gateway!\n"
        up_s = int(sw.now_s() - sw.counters.started_s) if gw.status != "DOWN" else 0
        ping = str(int(sw.now_s())) if gw.ping else "0"
        rows = [
            ("Name    ", name),
            ("Profile ", gw.profile),
            ("Scheme  ", "Digest"),
            ("Realm   ", gw.proxy),
            ("Username", name),
            ("Password", "yes"),
            ("From    ", f"<sip:{name}@{gw.proxy}>"),
            ("Contact ", f"<sip:gw+{name}@127.0.0.1:5080;transport=udp;gw={name}>"),
            ("Exten   ", name),
            ("To      ", f"sip:{name}@{gw.proxy}"),
            ("Proxy   ", f"sip:{gw.proxy}"),
            ("Context ", "public"),
            ("Expires ", "3600"),
            ("Freq    ", "3600"),
            ("Ping    ", ping),
            ("PingFreq", "5" if gw.ping else "0"),
            ("PingTime", "0.00"),
            ("PingState", "1/0/1" if gw.status == "DOWN" else "0/0/0"),
            ("State   ", "NOREG"),
            ("Status  ", "DOWN" if gw.status == "DOWN" else "UP"),
            ("Uptime  ", f"{up_s}s"),
            ("CallsIN ", "0"),
            ("CallsOUT", str(sw.gateway_calls.get(name, 0))),
            ("FailedCallsIN", "0"),
            ("FailedCallsOUT", str(sw.gateway_failed.get(name, 0))),
        ]
        body = "".join(f"{k}\t{v}\n" for k, v in rows)
        return f"{RULE}\n{body}{RULE}\n"

    def _in_use(self, profile: str) -> int:
        """Calls in use on a sofia profile (the number ``sofia status`` prints)."""
        prefix = f"sofia/{profile}/"
        return sum(1 for ch in self.sw.channels.values() if ch.name.startswith(prefix))

    def _sofia_status(self) -> str:
        lines = [
            f"{'Name':>25}\t{'Type':>7}\t{'Data':>42}\tState",
            RULE,
            f"{'127.0.0.1':>25}\t{'alias':>7}\t{'internal':>42}\tALIASED",
            f"{'external':>25}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5080':>42}\t"
            f"RUNNING ({self._in_use('external')})",
        ]
        for name, gw in reversed(list(self.sw.scenario.gateways.items())):
            lines.append(
                f"{gw.profile + '::' + name:>25}\t{'gateway':>7}\t"
                f"{'sip:' + name + '@' + gw.proxy:>42}\tNOREG"
            )
        lines.append(
            f"{'internal':>25}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5060':>42}\t"
            f"RUNNING ({self._in_use('internal')})"
        )
        lines.append(RULE)
        lines.append("2 profiles 1 alias")
        return "\n".join(lines) + "\n"
