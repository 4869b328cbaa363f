"""The do-not-call list as the switch's own guard (mod_blacklist and a dialplan condition).

The dialer never originates to a DNC number; this is the second guard, on the switch, for a
call originated by hand into the campaign context. The campaign extension runs
``execute_extension dialer_dnc`` before it answers and queues: that extension checks the
dialled number, ``${callee_id_number}`` (what the gateway dial string carried after
``sofia/gateway/NAME/``: transcript w1, ``Hunt-Callee-ID-Number``), against

- mod_blacklist's list ``dialer_dnc`` (exact numbers, ``blacklists/dialer_dnc.list``, one
  entry a line): ``${blacklist(check dialer_dnc ${callee_id_number})}`` is ``true`` for a
  listed number (transcript x);
- a regular expression of the DNC prefixes (mod_blacklist matches whole entries only),

and hangs a match up with ``CALL_REJECTED``. A trunk dials ``callee_prefix`` + the number,
national or E.164 (`dialer.routing.model.Trunk.dial_string`), so each entry is listed in every
form some trunk dials it, and in E.164 digits (a hand originate may use those). Prefixes are
matched with and without the national trunk prefix (over-blocking a number is the safe side).

Only global, unexpired entries go to the switch: a hand originate carries no campaign, and an
expiry needs a new render. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from phonenumbers import region_code_for_country_code

from dialer.routing.geo import region_of
from dialer.routing.model import NumberFormat, Trunk

DNC_LIST = "dialer_dnc"
DNC_EXTENSION = "dialer_dnc"
DNC_HANGUP_CAUSE = "CALL_REJECTED"
DNC_LIST_PATH = "blacklists/dialer_dnc.list"
_E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
_PREFIX_RE = re.compile(r"\+[0-9]{1,15}")


@dataclass(frozen=True, slots=True)
class SwitchDnc:
    """What the switch checks: ``numbers`` (every dialled form, sorted) and ``prefixes`` (a
    regular expression over the dialled number, empty when there is none)."""

    numbers: tuple[str, ...]
    prefix_regex: str

    def list_text(self) -> str:
        return "".join(f"{n}\n" for n in self.numbers)


def _dial_forms(e164: str, trunks: Iterable[Trunk]) -> set[str]:
    digits = e164[1:]
    forms = {digits}
    region = region_of(e164)
    for t in trunks:
        national = region.national(digits) if region.cc_digits else digits
        number = national if t.number_format is NumberFormat.NATIONAL else digits
        forms.add(t.callee_prefix + number)
    return forms


def _cc_digits(digits: str) -> int:
    for length in (1, 2, 3):
        code = digits[:length]
        if len(code) == length and region_code_for_country_code(int(code)) != "ZZ":
            return length
    return 0


def _prefix_patterns(prefix: str, trunks: Iterable[Trunk]) -> set[str]:
    digits = prefix[1:]
    patterns = {re.escape(digits)}
    cc = _cc_digits(digits)
    for t in trunks:
        callee = re.escape(t.callee_prefix)
        if t.number_format is NumberFormat.NATIONAL and cc:
            # the national trunk prefix (0 for Chinese fixed lines, none for mobiles) is
            # number-dependent: allow any one of 0 or nothing
            patterns.add(f"{callee}0?{re.escape(digits[cc:])}")
        else:
            patterns.add(callee + re.escape(digits))
    return patterns


def switch_dnc(
    numbers: Iterable[str], prefixes: Iterable[str], trunks: Iterable[Trunk]
) -> SwitchDnc:
    """The switch-side DNC of E.164 ``numbers`` and ``+digits`` ``prefixes`` for ``trunks``.

    Values that are neither (there should be none: the DNC store normalizes them) are
    refused, since they would go into a file and a regular expression."""
    trunk_list = list(trunks)
    forms: set[str] = set()
    for n in numbers:
        if not _E164_RE.fullmatch(n):
            raise ValueError(f"DNC number {n!r} is not E.164")
        forms |= _dial_forms(n, trunk_list)
    patterns: set[str] = set()
    for p in prefixes:
        if not _PREFIX_RE.fullmatch(p):
            raise ValueError(f"DNC prefix {p!r} is not '+' and digits")
        patterns |= _prefix_patterns(p, trunk_list)
    regex = f"^({'|'.join(sorted(patterns))})" if patterns else ""
    return SwitchDnc(tuple(sorted(forms)), regex)
