"""``show channels|calls [as json]`` and ``sofia status [gateway <name>]`` of the simulated
switch, worded and laid out as FreeSWITCH's mod_commands and mod_sofia print them (transcripts
f, d2, n)."""

from __future__ import annotations

import json
import time

from dialer.sim.channel import Channel
from dialer.sim.switch import SimSwitch

__all__ = ["show_reply", "sofia_reply"]

_CALL_FIELDS = [
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
_RULE = "=" * 97
_SHOW_USAGE = (
    "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|"
    "channels [count|like <match string>]|calls|detailed_calls|bridged_calls|"
    "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|"
    "interface_types|tasks|limits|status\n"
)


def _row(ch: Channel, hostname: str) -> dict[str, str]:
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
        "hostname": hostname,
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


def _live(sw: SimSwitch) -> list[Channel]:
    return [ch for ch in sw.channels.values() if not ch.destroyed and ch.name != "N/A"]


def show_reply(sw: SimSwitch, args: str) -> str:
    """``show channels|calls|registrations [as json]``; no phone registers with the
    simulator, so ``registrations`` is always the empty table (transcript x)."""
    words = args.split()
    if not words or words[0] not in ("channels", "calls", "registrations"):
        return _SHOW_USAGE
    as_json = words[-2:] == ["as", "json"]
    hostname = sw.scenario.hostname
    if words[0] == "registrations":
        rows: list[dict[str, str]] = []
    elif words[0] == "calls":
        rows = _calls(sw)
    else:
        rows = [_row(ch, hostname) for ch in _live(sw)]
    if as_json:
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
    if not rows:
        # the column line is printed with the first row only
        return "\n0 total.\n"
    lines = [",".join(rows[0].keys())] + [",".join(r.values()) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def _calls(sw: SimSwitch) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for ch in _live(sw):
        if ch.uuid in seen or ch.kind != "customer":
            continue
        full = _row(ch, sw.scenario.hostname)
        row = {k: full[k] for k in _CALL_FIELDS}
        partner = sw.channels.get(ch.bridged_to or "")
        b = _row(partner, sw.scenario.hostname) if partner is not None else {}
        if partner is not None:
            seen.add(partner.uuid)
        for key in _CALL_FIELDS:
            if key not in ("call_uuid", "hostname"):
                row["b_" + key] = b.get(key, "")
        bridged = ch.profile.get("Channel-Bridged-Time", "0")
        row["call_created_epoch"] = str(int(bridged) // 1_000_000) if partner else ""
        rows.append(row)
    return rows


def sofia_reply(sw: SimSwitch, args: str) -> str:
    """``sofia status`` and ``sofia status gateway <name>``."""
    words = args.split()
    if words[:2] == ["status", "gateway"] and len(words) >= 3:
        return _gateway_status(sw, words[2])
    if words[:1] == ["status"]:
        return _sofia_status(sw)
    return "-ERR Usage: sofia status\n"


def _gateway_status(sw: SimSwitch, name: str) -> str:
    gw = sw.scenario.gateways.get(name)
    if gw is None:
        return "Invalid Gateway!\n"
    up_s = int(sw.now_s() - sw.admission.started_s) if gw.status != "DOWN" else 0
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
        ("CallsOUT", str(sw.gateway_stats.placed(name))),
        ("FailedCallsIN", "0"),
        ("FailedCallsOUT", str(sw.gateway_stats.failed(name))),
    ]
    body = "".join(f"{k}\t{v}\n" for k, v in rows)
    return f"{_RULE}\n{body}{_RULE}\n"


def _in_use(sw: SimSwitch, profile: str) -> int:
    """Calls in use on a sofia profile (the number ``sofia status`` prints)."""
    prefix = f"sofia/{profile}/"
    return sum(1 for ch in sw.channels.values() if ch.name.startswith(prefix))


def _sofia_status(sw: SimSwitch) -> str:
    lines = [
        f"{'Name':>25}\t{'Type':>7}\t{'Data':>42}\tState",
        _RULE,
        f"{'127.0.0.1':>25}\t{'alias':>7}\t{'internal':>42}\tALIASED",
        f"{'external':>25}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5080':>42}\t"
        f"RUNNING ({_in_use(sw, 'external')})",
    ]
    for name, gw in reversed(list(sw.scenario.gateways.items())):
        lines.append(
            f"{gw.profile + '::' + name:>25}\t{'gateway':>7}\t"
            f"{'sip:' + name + '@' + gw.proxy:>42}\tNOREG"
        )
    lines.append(
        f"{'internal':>25}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5060':>42}\t"
        f"RUNNING ({_in_use(sw, 'internal')})"
    )
    lines.append(_RULE)
    lines.append("2 profiles 1 alias")
    return "\n".join(lines) + "\n"
