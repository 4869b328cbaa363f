"""Plain data the router works on: trunks, their limits and caller-ID policies, live usage.

Everything here is immutable and free of I/O; the ORM rows in :mod:`dialer.routing.orm` are
turned into these values once per reload, and the router reads only these.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.esl.originate import CALLER_ID_RE, DIALED_NUMBER_RE, GATEWAY_NAME_RE
from dialer.routing.health import TrunkHealth, TrunkQuality
from dialer.routing.ratedeck import RateDeck

# A trunk's values reach the originate string (`dialer.esl.originate`) and the gateway XML:
# each is checked here, when the trunk is made, against the pattern the dial path applies
# (or a stricter one), so a trunk that was accepted never fails a call as an unsafe value.
_TRUNK_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_DIGITS_RE = re.compile(r"[0-9]{1,20}")
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]{{2,45}}\]")
_LONGEST_NATIONAL_DIGITS = 20  # a national number with its trunk prefix, at most
MAX_COUNT = 2**31 - 1  # the largest limit, cap or weight a trunk's (INTEGER) columns hold
_MAX_TEXT = 255  # the columns of username, password and realm


def _printable(value: str) -> bool:
    """No control character (they cannot be carried into XML or a SIP header)."""
    return value.isprintable()


def split_proxy(text: str) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[IPv6]`` or ``[IPv6]:PORT`` -> (host, port); port 5060 when
    none is given. Raises ValueError naming the text."""
    host, port = text.strip(), "5060"
    if host.startswith("["):
        closing = host.find("]")
        rest = host[closing + 1 :] if closing > 0 else "?"
        if rest and not rest.startswith(":"):
            raise ValueError(f"proxy {text!r} is not [IPv6] or [IPv6]:PORT")
        host, port = host[: closing + 1], rest[1:] or port
    elif ":" in host:
        host, port = host.rsplit(":", 1)
    if not (port.isascii() and port.isdigit()):
        raise ValueError(f"proxy {text!r}: port {port!r} is not a number")
    return host, int(port)


class InvalidValues(ValueError):
    """Values a trunk (or one of its parts) cannot be made of: ``problems`` holds one
    ``(field, detail)`` per bad value, the field named as the value's own attribute. Its text
    is the first detail, one line (as ``dialer trunks add`` prints it)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.problems[0][1] if self.problems else "invalid values")


def _raise_problems(problems: Iterator[tuple[str, str]]) -> None:
    found = list(problems)
    if found:
        raise InvalidValues(found)


class CallerIdMode(enum.StrEnum):
    SINGLE = "single"
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    LEAST_USED = "least_used"


class NumberFormat(enum.StrEnum):
    """How the callee number follows the callee prefix in the dial string."""

    NATIONAL = "national"  # 13800138000, 051912345678
    E164 = "e164"  # 8613800138000


class UnknownRegionPolicy(enum.StrEnum):
    """What a trunk with blind areas does with a number whose province is unknown."""

    ALLOW = "allow"
    BLOCK = "block"


class NumberWindow(enum.StrEnum):
    """The calendar window of a per-number cap, in the trunk's time zone."""

    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class CallerIdPolicy:
    """Which number a trunk presents (主叫送).

    ``numbers`` are sent verbatim as ``origination_caller_id_number``; ``daily_cap_per_number``
    (0 = none) bounds the calls each one places per calendar day in the trunk's time zone.
    With ``local_presence`` a caller ID from the callee's province is preferred.
    """

    numbers: tuple[str, ...] = ()
    mode: CallerIdMode = CallerIdMode.SINGLE
    daily_cap_per_number: int = 0
    local_presence: bool = False

    def __post_init__(self) -> None:
        _raise_problems(self._problems())

    def _problems(self) -> Iterator[tuple[str, str]]:
        for number in self.numbers:
            if not CALLER_ID_RE.fullmatch(number):
                yield "numbers", f"caller ID {number!r} must be 1-32 digits, + allowed first"
        if not 0 <= self.daily_cap_per_number <= MAX_COUNT:
            yield "daily_cap_per_number", f"daily_cap_per_number must be >= 0 and <= {MAX_COUNT}"


@dataclass(frozen=True, slots=True)
class BlindAreas:
    """Where a trunk cannot reach (盲区).

    ``regions``: province names as the phonenumbers geocoder spells them, in Chinese (matched
    as the start of the Chinese description: ``北`` or ``北京`` match ``北京市``) or English
    (matched against the comma-separated parts of the English description, any case:
    ``Xinjiang`` matches ``Urumchi, Xinjiang``). ``prefixes``: E.164 digit prefixes including
    the country code (``86139``).
    """

    regions: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    unknown_region: UnknownRegionPolicy = UnknownRegionPolicy.ALLOW

    def __post_init__(self) -> None:
        _raise_problems(self._problems())

    def _problems(self) -> Iterator[tuple[str, str]]:
        for prefix in self.prefixes:
            if not _DIGITS_RE.fullmatch(prefix):
                yield "prefixes", f"blind-area prefix {prefix!r} must be 1-20 digits"
        for region in self.regions:
            if not region.strip() or not _printable(region):
                yield "regions", f"blind area {region!r} must be a printable province name"

    @property
    def empty(self) -> bool:
        return not self.regions and not self.prefixes


@dataclass(frozen=True, slots=True)
class ActiveWindow:
    """Minutes after local midnight ``[start_min, end_min)``; wraps past midnight if end < start."""

    start_min: int
    end_min: int

    def contains(self, minute: int) -> bool:
        if self.start_min <= self.end_min:
            return self.start_min <= minute < self.end_min
        return minute >= self.start_min or minute < self.end_min

    @classmethod
    def parse(cls, text: str) -> ActiveWindow:
        """``"09:00-21:00"`` -> window; raises ValueError on anything else."""
        match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text.strip())
        if not match:
            raise ValueError(f"active window {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"active window {text!r} has an impossible time")
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return (
            f"{self.start_min // 60:02d}:{self.start_min % 60:02d}-"
            f"{self.end_min // 60:02d}:{self.end_min % 60:02d}"
        )


@dataclass(frozen=True, slots=True)
class Trunk:
    """One SIP trunk = one FreeSWITCH gateway, with every limit the carrier imposes.

    ``max_concurrency`` calls at once, ``max_cps`` new calls in any sliding second,
    ``per_number_cap`` calls to one number per ``per_number_window`` (0 = no cap); the windows
    are calendar days/weeks in ``time_zone``. ``weight`` shares traffic among trunks of equal
    cost; 0 means the trunk is never chosen.
    """

    name: str
    proxy_host: str
    proxy_port: int = 5060
    sip_profile: str = "external"
    fs_nodes: tuple[str, ...] = ()
    register: bool = False
    username: str = ""
    password: str = ""
    realm: str = ""
    callee_prefix: str = ""
    number_format: NumberFormat = NumberFormat.NATIONAL
    caller_id: CallerIdPolicy = field(default_factory=CallerIdPolicy)
    max_concurrency: int = 0
    max_cps: int = 0
    blind_areas: BlindAreas = field(default_factory=BlindAreas)
    per_number_cap: int = 0
    per_number_window: NumberWindow = NumberWindow.DAY
    time_zone: str = "Asia/Shanghai"
    active_hours: tuple[ActiveWindow, ...] = ()
    enabled: bool = True
    weight: int = 1
    groups: tuple[str, ...] = ()
    ping_interval_s: int = 0
    rates: RateDeck = field(default_factory=RateDeck)

    def __post_init__(self) -> None:
        _raise_problems(self._problems())

    def _problems(self) -> Iterator[tuple[str, str]]:
        """Each value that could not be carried to the switch: (attribute, one line)."""
        if not (_TRUNK_NAME_RE.fullmatch(self.name) and GATEWAY_NAME_RE.fullmatch(self.name)):
            what = "1-63 letters, digits, _ . - (a letter or digit first)"
            yield "name", f"trunk name {self.name!r}: {what}"
        if self.callee_prefix and not (
            _DIGITS_RE.fullmatch(self.callee_prefix)
            and DIALED_NUMBER_RE.fullmatch(self.callee_prefix + "0" * _LONGEST_NATIONAL_DIGITS)
        ):
            yield "callee_prefix", f"callee prefix {self.callee_prefix!r} must be 1-20 digits"
        if not (len(self.proxy_host) <= 253 and _HOST_RE.fullmatch(self.proxy_host)):
            yield "proxy_host", f"proxy host {self.proxy_host!r} is not a host name or IP address"
        if not 1 <= self.proxy_port <= 65535:
            yield "proxy_port", f"proxy port {self.proxy_port} out of range"
        if not _NAME_RE.fullmatch(self.sip_profile):
            yield "sip_profile", f"sip profile {self.sip_profile!r}: 1-63 letters, digits, _ . -"
        for attr, what, names in (
            ("groups", "trunk group", self.groups),
            ("fs_nodes", "FreeSWITCH node", self.fs_nodes),
        ):
            for name in names:
                if not _NAME_RE.fullmatch(name):
                    yield attr, f"{what} {name!r}: 1-63 letters, digits, _ . -"
        for attr, text in (
            ("username", self.username),
            ("password", self.password),
            ("realm", self.realm),
        ):
            if not _printable(text):
                yield attr, f"{attr} holds a control character"
            elif len(text) > _MAX_TEXT:
                yield attr, f"{attr} is over {_MAX_TEXT} characters"
        if self.register and not (self.username and self.password):
            yield "register", "a registering trunk needs a username and a password"
        if not _known_zone(self.time_zone):
            yield (
                "time_zone",
                (f"time zone {self.time_zone!r} is not an IANA zone (e.g. Asia/Shanghai)"),
            )
        for attr, value in (
            ("max_concurrency", self.max_concurrency),
            ("max_cps", self.max_cps),
            ("per_number_cap", self.per_number_cap),
            ("weight", self.weight),
            ("ping_interval_s", self.ping_interval_s),
        ):
            if not 0 <= value <= MAX_COUNT:
                yield attr, f"{attr} must be >= 0 and <= {MAX_COUNT}"

    def dial_string(self, digits: str, national: str) -> str:
        """``sofia/gateway/NAME/PREFIX+NUMBER``: E.164 ``digits`` or their ``national`` form."""
        number = national if self.number_format is NumberFormat.NATIONAL else digits
        return f"sofia/gateway/{self.name}/{self.callee_prefix}{number}"


@dataclass(frozen=True, slots=True)
class TrunkUsage:
    """A trunk's live figures as last read from the shared state (advisory; Redis decides)."""

    in_flight: int = 0
    calls_last_second: int = 0


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    """Live state of the trunks as last read; absent entries mean idle, healthy, no history.

    ``number_calls`` per (trunk, E.164 number) in the current cap window, ``caller_id_calls``
    per (trunk, caller ID) today.
    """

    trunks: Mapping[str, TrunkUsage] = field(default_factory=dict)
    number_calls: Mapping[tuple[str, str], int] = field(default_factory=dict)
    caller_id_calls: Mapping[tuple[str, str], int] = field(default_factory=dict)
    health: Mapping[str, TrunkHealth] = field(default_factory=dict)
    quality: Mapping[str, TrunkQuality] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CampaignRouting:
    """What the router needs of a campaign: its trunk group and an optional caller-ID override."""

    name: str = ""
    trunk_group: str | None = None
    caller_id: CallerIdPolicy | None = None


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
