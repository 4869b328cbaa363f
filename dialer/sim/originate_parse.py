"""Pure parser for the ``originate`` API command, reproducing FreeSWITCH 1.10's string handling.

FreeSWITCH parses ``originate <call url> <exten> [<dialplan>] [<context>] [<cid_name>]
[<cid_num>] [<timeout_sec>]`` in layers, each a ``switch_separate_string`` pass:

1. the whole argument string is split on blanks (``'...'`` groups words and is removed, ``\\``
   escapes the next character; ``\\'``, ``\\"``, ``\\\\`` and ``\\n``/``\\r``/``\\t``/``\\s``
   are unescaped, other ``\\x`` pairs are kept verbatim);
2. a ``{...}`` / ``[...]`` group is split on ``,`` (or on ``X`` after a leading ``^^X``) with
   the same quote/escape rules, where ``\\<delim>`` is unescaped too;
3. each ``name=value`` item is split once on ``=`` (same rules, ``\\=`` unescaped); items
   without ``=`` are dropped; values containing ``${`` are refused (not set).

Every behaviour here is pinned by ``g_originate_escaping.results.txt`` (table-driven test).
Invariant: the functions are total (never raise) and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ORIGINATE_USAGE",
    "Endpoint",
    "OriginateError",
    "OriginateRequest",
    "parse_dial_string",
    "parse_originate",
    "separate_string",
]

_ESCAPE = "\\"
ORIGINATE_USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]"
)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def _cleanup(token: str, delim: str) -> str:
    """``cleanup_separated_string``: strip quotes, unescape, trim leading and trailing blanks."""
    i = 0
    while i < len(token) and token[i] == " ":
        i += 1
    out: list[str] = []
    end = 0
    inside_quotes = False
    n = len(token)
    while i < n:
        ch = token[i]
        if ch == _ESCAPE:
            nxt = token[i + 1] if i + 1 < n else ""
            repl = _UNESCAPE.get(nxt, nxt)
            if nxt and (nxt in ("'", '"', _ESCAPE) or (delim and nxt == delim) or repl != nxt):
                out.append(repl)
                end = len(out)
                i += 2
                continue
        if ch == "'" and (inside_quotes or "'" in token[i + 1 :]):
            inside_quotes = not inside_quotes
            if inside_quotes:
                end = len(out)
        else:
            out.append(ch)
            if ch != " " or inside_quotes:
                end = len(out)
        i += 1
    return "".join(out[:end])


def _split_blank(text: str, max_parts: int = 1024) -> list[str]:
    """``separate_string_blank_delim``: any unescaped ``'`` toggles quoting (no pairing check)."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n and len(parts) < max_parts:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            break
        start = i
        inside_quotes = False
        while i < n:
            ch = text[i]
            if ch == _ESCAPE:
                i += 2
                continue
            if ch == "'":
                inside_quotes = not inside_quotes
            elif ch == " " and not inside_quotes:
                break
            i += 1
        parts.append(text[start:i])
        i += 1
    return [_cleanup(p, "") for p in parts]


def _split_char(text: str, delim: str, max_parts: int = 1024) -> list[str]:
    """``separate_string_char_delim``: ``'`` quotes only when a later ``'`` closes it."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n and len(parts) < max_parts:
        start = i
        if len(parts) == max_parts - 1:
            parts.append(text[start:])
            break
        inside_quotes = False
        while i < n:
            ch = text[i]
            if ch == _ESCAPE:
                i += 2
                continue
            if ch == "'" and (inside_quotes or "'" in text[i + 1 :]):
                inside_quotes = not inside_quotes
            elif ch == delim and not inside_quotes:
                break
            i += 1
        parts.append(text[start:i])
        i += 1
    return [_cleanup(p, delim) for p in parts]


def separate_string(text: str, delim: str, max_parts: int = 1024) -> list[str]:
    """``switch_separate_string``: a leading ``^^X`` switches the delimiter to ``X``."""
    if text.startswith("^^") and len(text) >= 4:
        delim = text[2]
        text = text[3:]
    if delim == " ":
        return _split_blank(text, max_parts)
    return _split_char(text, delim, max_parts)


def _find_end_paren(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index of the bracket closing the one at ``start`` (nesting counted), or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _parse_var_group(content: str) -> tuple[dict[str, str], list[str]]:
    """Variables of one ``{...}``/``[...]`` group body; returns (variables, refused names)."""
    variables: dict[str, str] = {}
    refused: list[str] = []
    for item in separate_string(content, ","):
        pair = _split_char(item, "=", 2)
        if len(pair) != 2:
            continue
        name, value = pair
        if "${" in value:
            refused.append(name)
            continue
        variables[name] = value
    return variables, refused


@dataclass(frozen=True)
class Endpoint:
    """One dial string: ``kind`` is ``gateway``, ``profile``, ``loopback``, ``user``, ``null``
    or ``error``; ``target`` the number/user/extension; ``name`` the gateway/profile/domain."""

    kind: str
    name: str
    target: str
    raw: str
    leg_vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OriginateRequest:
    """A parsed originate: global vars, the leg, and where the answered call goes."""

    global_vars: dict[str, str]
    endpoint: Endpoint
    destination: str
    app_name: str | None
    app_args: str
    dialplan: str
    context: str
    cid_name: str | None
    cid_num: str | None
    timeout_s: int | None
    refused_vars: tuple[str, ...] = ()

    def channel_vars(self) -> dict[str, str]:
        """Variables the leg starts with: per-leg values override global ones."""
        merged = dict(self.endpoint.leg_vars)
        merged.update({k: v for k, v in self.global_vars.items() if k not in merged})
        return merged


@dataclass(frozen=True)
class OriginateError:
    """A refusal: ``reply`` is the exact API reply text (without trailing newline)."""

    reply: str


def _parse_endpoint(dial: str, leg_vars: dict[str, str]) -> Endpoint | None:
    """Parse one leg such as ``sofia/gateway/carrier_a/6138000000``; None if malformed."""
    parts = dial.split("/")
    kind = parts[0]
    if kind == "sofia" and len(parts) >= 4 and parts[1] == "gateway":
        return Endpoint("gateway", parts[2], "/".join(parts[3:]), dial, leg_vars)
    if kind == "sofia" and len(parts) >= 3:
        return Endpoint("profile", parts[1], "/".join(parts[2:]), dial, leg_vars)
    if kind == "loopback" and len(parts) >= 2 and parts[1]:
        context = parts[2] if len(parts) >= 3 else "default"
        return Endpoint("loopback", context, parts[1], dial, leg_vars)
    if kind == "user" and len(parts) >= 2 and parts[1]:
        user, _, domain = parts[1].partition("@")
        return Endpoint("user", domain, user, dial, leg_vars)
    if kind == "null":
        return Endpoint("null", "", "/".join(parts[1:]), dial, leg_vars)
    if kind == "error" and len(parts) >= 2:
        return Endpoint("error", "", parts[1], dial, leg_vars)
    return None


def _take_group(text: str, open_ch: str, close_ch: str) -> tuple[str | None, str]:
    """Split a leading ``{...}`` / ``[...]`` group off ``text``; (None, text) if absent,
    ("\\0", text) if unterminated."""
    if not text.startswith(open_ch):
        return None, text
    end = _find_end_paren(text, 0, open_ch, close_ch)
    if end < 0:
        return "\0", text
    return text[1:end], text[end + 1 :]


def parse_dial_string(
    url: str,
) -> tuple[dict[str, str], Endpoint, tuple[str, ...]] | OriginateError:
    """Parse ``{global}[leg]endpoint`` (one leg; ``,``/``|`` alternatives use the first)."""
    refused: list[str] = []
    global_vars: dict[str, str] = {}
    rest = url
    while rest.startswith("{") or rest.startswith("<"):
        open_ch, close_ch = ("{", "}") if rest[0] == "{" else ("<", ">")
        group, rest = _take_group(rest, open_ch, close_ch)
        if group == "\0" or group is None:
            return OriginateError("-ERR DESTINATION_OUT_OF_ORDER")
        found, bad = _parse_var_group(group)
        global_vars.update(found)
        refused.extend(bad)
    leg_vars: dict[str, str] = {}
    if rest.startswith("["):
        group, rest = _take_group(rest, "[", "]")
        if group == "\0" or group is None:
            return OriginateError("-ERR DESTINATION_OUT_OF_ORDER")
        leg_vars, bad = _parse_var_group(group)
        refused.extend(bad)
    first = _first_leg(rest)
    endpoint = _parse_endpoint(first, leg_vars)
    if endpoint is None:
        return OriginateError("-ERR CHAN_NOT_IMPLEMENTED")
    return global_vars, endpoint, tuple(refused)


def _first_leg(rest: str) -> str:
    """The first leg of a ``,`` (simultaneous) or ``|`` (sequential) list."""
    for i, ch in enumerate(rest):
        if ch in ",|" and (i == 0 or rest[i - 1] != _ESCAPE):
            return rest[:i]
    return rest


def parse_originate(args: str) -> OriginateRequest | OriginateError:
    """Parse the argument string of ``api originate`` exactly as FreeSWITCH does."""
    argv = separate_string(args, " ", 10)
    if len(argv) < 2 or len(argv) > 7:
        return OriginateError(ORIGINATE_USAGE)
    url, dest = argv[0], argv[1]
    dialplan = argv[2] if len(argv) > 2 and argv[2] else "XML"
    context = argv[3] if len(argv) > 3 and argv[3] else "default"
    cid_name = argv[4] if len(argv) > 4 else None
    cid_num = argv[5] if len(argv) > 5 else None
    timeout_s: int | None = None
    if len(argv) > 6 and argv[6].isdigit():
        timeout_s = int(argv[6])
    parsed = parse_dial_string(url)
    if isinstance(parsed, OriginateError):
        return parsed
    global_vars, endpoint, refused = parsed
    app_name: str | None = None
    app_args = ""
    if dest.startswith("&"):
        body = dest[1:]
        name, paren, tail = body.partition("(")
        app_name = name
        app_args = tail[:-1] if paren and tail.endswith(")") else ""
        if paren and not tail.endswith(")"):
            app_args = tail
    return OriginateRequest(
        global_vars=global_vars,
        endpoint=endpoint,
        destination=dest,
        app_name=app_name,
        app_args=app_args,
        dialplan=dialplan,
        context=context,
        cid_name=cid_name,
        cid_num=cid_num,
        timeout_s=timeout_s,
        refused_vars=refused,
    )
