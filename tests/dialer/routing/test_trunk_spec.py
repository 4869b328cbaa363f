"""`TrunkFields` -> `Trunk` (`build_trunk`), the one way ``dialer trunks add`` and
``POST /v1/trunks`` make a trunk: every bad value named under its field, the fields a trunk
was built from read back (`fields_of`), changes applied by name (`updated_fields`)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.routing.model import MAX_COUNT, CallerIdMode, InvalidValues, NumberWindow
from dialer.routing.spec import (
    TRUNK_FIELD_NAMES,
    TrunkFields,
    build_trunk,
    fields_of,
    updated_fields,
)

CARRIER = TrunkFields(
    name="carrier1",
    proxy="8.8.8.8:5070",
    callee_prefix="6",
    caller_ids=("20220601", "+8610"),
    caller_id_mode=CallerIdMode.ROUND_ROBIN,
    max_concurrency=500,
    blind_areas=("北京", "Xinjiang"),
    blind_prefixes=("86139",),
    per_number_cap=1,
    per_number_window=NumberWindow.WEEK,
    active_hours=("09:00-12:00", "13:30-20:00"),
    groups=("sales",),
    register=True,
    username="u",
    password="p",
    fs_nodes=("fs1",),
)


def _problems(fields: TrunkFields) -> list[tuple[str, str]]:
    with pytest.raises(InvalidValues) as refused:
        build_trunk(fields)
    return list(refused.value.problems)


def test_the_carriers_values_make_the_trunk_and_read_back() -> None:
    trunk = build_trunk(CARRIER)
    assert (trunk.proxy_host, trunk.proxy_port) == ("8.8.8.8", 5070)
    assert trunk.caller_id.numbers == ("20220601", "+8610")
    assert trunk.blind_areas.prefixes == ("86139",)
    assert [str(w) for w in trunk.active_hours] == ["09:00-12:00", "13:30-20:00"]
    assert fields_of(trunk) == CARRIER
    assert fields_of(build_trunk(TrunkFields("t", "[2001:db8::1]"))).proxy == "[2001:db8::1]:5060"


def test_every_bad_value_is_named_under_its_field_first_one_as_text() -> None:
    bad = replace(
        CARRIER,
        name="a/b",
        proxy="8.8.8.8:50x",
        caller_ids=("2022", "20x"),
        caller_id_daily_cap=-1,
        blind_areas=("北京\x07",),
        blind_prefixes=("86\n1",),
        active_hours=("9-17", "25:00-26:00"),
        time_zone="Mars/Base",
        max_cps=-1,
        weight=MAX_COUNT + 1,
        password="",
        username="x" * 256,
    )
    problems = _problems(bad)
    assert [field for field, _ in problems] == [
        "proxy", "caller_ids", "caller_id_daily_cap", "blind_prefixes", "blind_areas",
        "active_hours", "active_hours", "name", "username", "register", "time_zone", "max_cps",
        "weight",
    ]  # fmt: skip
    assert problems[0] == ("proxy", "proxy '8.8.8.8:50x': port '50x' is not a number")
    with pytest.raises(
        InvalidValues, match=r"^proxy '8\.8\.8\.8:50x': port '50x' is not a number$"
    ):
        build_trunk(bad)


def test_a_bad_host_is_named_as_the_proxy() -> None:
    assert _problems(replace(CARRIER, proxy="a b")) == [
        ("proxy", "proxy host 'a b' is not a host name or IP address")
    ]
    assert [f for f, _ in _problems(replace(CARRIER, proxy="h:70000"))] == ["proxy"]


def test_changes_apply_by_name_and_the_name_stays() -> None:
    changed = updated_fields(CARRIER, {"max_cps": 20, "groups": ["a", "b"], "enabled": False})
    assert changed == replace(CARRIER, max_cps=20, groups=("a", "b"), enabled=False)
    assert updated_fields(CARRIER, {"name": "carrier1"}) == CARRIER
    with pytest.raises(InvalidValues) as renamed:
        updated_fields(CARRIER, {"name": "other"})
    assert renamed.value.problems[0][0] == "name"
    with pytest.raises(InvalidValues) as unknown:
        updated_fields(CARRIER, {"concurrency": 1, "bogus": 2})
    assert [f for f, _ in unknown.value.problems] == ["bogus", "concurrency"]
    assert "max_cps" in TRUNK_FIELD_NAMES and "rates" not in TRUNK_FIELD_NAMES


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text("0123456789", max_size=20),
    caller_ids=st.lists(st.from_regex(r"\+?[0-9]{1,32}", fullmatch=True), max_size=3),
    limits=st.tuples(*(st.integers(0, MAX_COUNT) for _ in range(4))),
    hours=st.lists(
        st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59)),
        max_size=2,
    ),
)
def test_whatever_is_accepted_reads_back_as_written(
    prefix: str,
    caller_ids: list[str],
    limits: tuple[int, int, int, int],
    hours: list[tuple[int, int, int, int]],
) -> None:
    fields = replace(
        CARRIER,
        callee_prefix=prefix,
        caller_ids=tuple(caller_ids),
        max_concurrency=limits[0],
        max_cps=limits[1],
        per_number_cap=limits[2],
        weight=limits[3],
        active_hours=tuple(f"{a:02d}:{b:02d}-{c:02d}:{d:02d}" for a, b, c, d in hours),
    )
    assert fields_of(build_trunk(fields)) == fields
