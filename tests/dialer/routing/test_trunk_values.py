"""A trunk is refused when it is made, not when it dials: every value a `Trunk` accepts is
carried by the originate builder, which never raises `UnsafeValue` for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialer.esl.originate import OriginateSpec, build_originate
from dialer.routing.geo import region_of
from dialer.routing.model import CallerIdPolicy, NumberFormat, Trunk, split_proxy

_NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
_HOSTILE = "0123456789+#*aZ_.-/ \n\r\t{}$,='\"\\北\x00"
_UUID = "0b1a9c3e-1111-4222-8333-444455556666"


def _originate(trunk: Trunk, number: str) -> str:
    digits = number.lstrip("+")
    national = region_of(number).national(digits)
    spec = OriginateSpec(
        call_uuid=_UUID,
        dial_string=trunk.dial_string(digits, national),
        caller_id=trunk.caller_id.numbers[0] if trunk.caller_id.numbers else None,
        extension="cc_sales",
        context="campaign",
        campaign_id=1,
        lead_id=2,
        attempt_id=3,
    )
    return build_originate(spec, _NOW)


@settings(max_examples=400, deadline=None)
@given(
    name=st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.text(_HOSTILE)),
    prefix=st.one_of(st.text("0123456789", max_size=20), st.text(_HOSTILE, max_size=8)),
    caller_id=st.one_of(st.text("0123456789", min_size=1, max_size=20), st.text(_HOSTILE)),
    number_format=st.sampled_from(NumberFormat),
    number=st.sampled_from(["+8613800138000", "+861065123456", "+16502530000"]),
)
def test_an_accepted_trunk_always_dials(
    name: str, prefix: str, caller_id: str, number_format: NumberFormat, number: str
) -> None:
    try:
        trunk = Trunk(
            name=name,
            proxy_host="192.0.2.1",
            callee_prefix=prefix,
            number_format=number_format,
            caller_id=CallerIdPolicy((caller_id,)),
        )
    except ValueError:
        assume(False)
        return
    assert _originate(trunk, number).startswith("{")


def test_the_values_the_carrier_hands_over_are_accepted() -> None:
    trunk = Trunk("carrier1", "8.8.8.8", callee_prefix="6", caller_id=CallerIdPolicy(("20220601",)))
    assert "sofia/gateway/carrier1/613800138000 cc_sales" in _originate(trunk, "+8613800138000")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("8.8.8.8", "8.8.8.8", 5060),
        ("sip.example.com:5070", "sip.example.com", 5070),
        ("[2001:db8::1]", "[2001:db8::1]", 5060),
        ("[2001:db8::1]:5080", "[2001:db8::1]", 5080),
    ],
)
def test_split_proxy(text: str, host: str, port: int) -> None:
    assert split_proxy(text) == (host, port)
