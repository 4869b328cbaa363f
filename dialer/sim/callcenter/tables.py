"""mod_callcenter's name tables and the C helpers its API relies on.

Statuses, states and reasons are compared case-insensitively (``strcasecmp``) but stored as the
caller typed them, as mod_callcenter does with its SQL rows.
"""

from __future__ import annotations

__all__ = [
    "AGENT_STATES",
    "AGENT_STATE_IDLE",
    "AGENT_STATE_IN_A_QUEUE_CALL",
    "AGENT_STATE_RECEIVING",
    "AGENT_STATE_RESERVED",
    "AGENT_STATE_WAITING",
    "AGENT_STATUSES",
    "AGENT_STATUS_AVAILABLE",
    "AGENT_STATUS_AVAILABLE_ON_DEMAND",
    "AGENT_STATUS_LOGGED_OUT",
    "AGENT_STATUS_ON_BREAK",
    "AGENT_TYPE_CALLBACK",
    "AGENT_TYPE_UUID_STANDBY",
    "CANCEL_BREAK_OUT",
    "CANCEL_NO_AGENT_TIMEOUT",
    "CANCEL_TIMEOUT",
    "INSTANCE_ID",
    "MEMBER_ABANDONED",
    "MEMBER_ANSWERED",
    "MEMBER_TRYING",
    "MEMBER_WAITING",
    "TIER_ACTIVE_INBOUND",
    "TIER_NO_ANSWER",
    "TIER_OFFERING",
    "TIER_READY",
    "TIER_STANDBY",
    "TIER_STATES",
    "agent_state",
    "agent_status",
    "c_atoi",
    "same",
    "split_config_args",
    "tier_state",
]

AGENT_TYPE_CALLBACK = "Callback"
AGENT_TYPE_UUID_STANDBY = "uuid-standby"
INSTANCE_ID = "single_box"

AGENT_STATUS_LOGGED_OUT = "Logged Out"
AGENT_STATUS_AVAILABLE = "Available"
AGENT_STATUS_AVAILABLE_ON_DEMAND = "Available (On Demand)"
AGENT_STATUS_ON_BREAK = "On Break"
AGENT_STATUSES = (
    AGENT_STATUS_LOGGED_OUT,
    AGENT_STATUS_AVAILABLE,
    AGENT_STATUS_AVAILABLE_ON_DEMAND,
    AGENT_STATUS_ON_BREAK,
)

AGENT_STATE_WAITING = "Waiting"
AGENT_STATE_RECEIVING = "Receiving"
AGENT_STATE_IN_A_QUEUE_CALL = "In a queue call"
AGENT_STATE_IDLE = "Idle"
AGENT_STATE_RESERVED = "Reserved"
AGENT_STATES = (
    AGENT_STATE_WAITING,
    AGENT_STATE_RECEIVING,
    AGENT_STATE_IN_A_QUEUE_CALL,
    AGENT_STATE_IDLE,
    AGENT_STATE_RESERVED,
)

TIER_NO_ANSWER = "No Answer"
TIER_READY = "Ready"
TIER_OFFERING = "Offering"
TIER_ACTIVE_INBOUND = "Active Inbound"
TIER_STANDBY = "Standby"
TIER_STATES = (TIER_NO_ANSWER, TIER_READY, TIER_OFFERING, TIER_ACTIVE_INBOUND, TIER_STANDBY)

MEMBER_WAITING = "Waiting"
MEMBER_TRYING = "Trying"
MEMBER_ANSWERED = "Answered"
MEMBER_ABANDONED = "Abandoned"

CANCEL_TIMEOUT = "TIMEOUT"
CANCEL_NO_AGENT_TIMEOUT = "NO_AGENT_TIMEOUT"
CANCEL_BREAK_OUT = "BREAK_OUT"


def _lookup(value: str, names: tuple[str, ...]) -> str | None:
    low = value.lower()
    for name in names:
        if name.lower() == low:
            return name
    return None


def agent_status(value: str) -> str | None:
    """Canonical status name for ``value`` (case-insensitive), None when unknown."""
    return _lookup(value, AGENT_STATUSES)


def agent_state(value: str) -> str | None:
    """Canonical agent state name for ``value`` (case-insensitive), None when unknown."""
    return _lookup(value, AGENT_STATES)


def tier_state(value: str) -> str | None:
    """Canonical tier state name for ``value`` (case-insensitive), None when unknown."""
    return _lookup(value, TIER_STATES)


def same(a: str, b: str) -> bool:
    """``!strcasecmp(a, b)``."""
    return a.lower() == b.lower()


def c_atoi(text: str | None) -> int:
    """C ``atoi``/``atol``: optional blanks, sign, leading digits; 0 when there are none."""
    if not text:
        return 0
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else 0


_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def _cleanup(arg: str) -> str:
    """FreeSWITCH's ``cleanup_separated_string`` for the blank delimiter: strips quotes,
    unescapes ``\\x`` sequences and trims surrounding blanks (kept inside quotes)."""
    i = 0
    while i < len(arg) and arg[i] == " ":
        i += 1
    out: list[str] = []
    end = 0
    inside = False
    while i < len(arg):
        ch = arg[i]
        if ch == "\\" and i + 1 < len(arg):
            nxt = arg[i + 1]
            if nxt in ("'", '"', "\\") or nxt in _UNESCAPE:
                out.append(_UNESCAPE.get(nxt, nxt))
                end = len(out)
                i += 2
                continue
        if ch == "'" and (inside or "'" in arg[i + 1 :]):
            inside = not inside
            if inside:
                end = len(out)
        else:
            out.append(ch)
            if ch != " " or inside:
                end = len(out)
        i += 1
    return "".join(out[:end])


def split_config_args(buf: str, max_args: int) -> list[str]:
    """``switch_separate_string(buf, ' ', argv, max_args)``: split on blanks outside single
    quotes; once ``max_args`` pieces exist the last one keeps the rest of the line."""
    starts: list[tuple[int, int]] = []
    i = 0
    n = len(buf)
    inside = False
    while i < n and len(starts) < max_args:
        start = i
        while i < n and buf[i] == " ":
            i += 1
        end = n
        while i < n:
            ch = buf[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'":
                inside = not inside
            elif ch == " " and not inside:
                end = i
                i += 1
                break
            i += 1
        else:
            end = n
        starts.append((start, min(end, n)))
        while i < n and buf[i] == " ":
            i += 1
    if starts and len(starts) == max_args:
        last_start = starts[-1][0]
        starts[-1] = (last_start, n)
    return [_cleanup(buf[a:b]) for a, b in starts]
