"""Rendered FreeSWITCH configuration: parsed, compared with golden files, values escaped."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.routing.model import BlindAreas, CallerIdPolicy, Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from fs_conf.render import distributor_xml, gateway_xml, lcr_sql, sql_literal, write_all

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("DIALER_UPDATE_GOLDEN") == "1"

DECK = RateDeck.of([RateEntry("86", Decimal("0.05")), RateEntry("86139", Decimal("0.031"))])
TRUNKS = [
    Trunk(
        name="xx",
        proxy_host="8.8.8.8",
        callee_prefix="6",
        caller_id=CallerIdPolicy(("20220601",)),
        max_concurrency=500,
        per_number_cap=1,
        blind_areas=BlindAreas(("北", "新", "西")),
        groups=("sales",),
        weight=2,
        rates=DECK,
    ),
    Trunk(
        name="carrier_b",
        proxy_host="sip.example.net",
        proxy_port=5080,
        register=True,
        username="acct",
        password="s3cret",
        ping_interval_s=5,
        groups=("sales", "collections"),
        rates=DECK,
    ),
    Trunk(name="spare", proxy_host="192.0.2.9", weight=0, groups=("sales",)),
]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("trunk", TRUNKS, ids=lambda t: t.name)
def test_gateway_xml_matches_golden(trunk: Trunk) -> None:
    text = gateway_xml(trunk)
    gateway = ET.fromstring(text).find("gateway")
    assert gateway is not None and gateway.get("name") == trunk.name
    params = {p.get("name"): p.get("value") for p in gateway.iter("param")}
    assert params["proxy"] == f"{trunk.proxy_host}:{trunk.proxy_port}"
    assert params["register"] == ("true" if trunk.register else "false")
    _golden(f"{trunk.name}.xml", text)


def test_distributor_lists_per_group_without_weight_zero() -> None:
    text = distributor_xml(TRUNKS)
    root = ET.fromstring(text)
    assert root.get("name") == "distributor.conf"
    lists = {
        lst.get("name"): [(n.get("name"), n.get("weight")) for n in lst]
        for lst in root.iter("list")
    }
    assert lists == {
        "all": [("carrier_b", "1"), ("xx", "2")],
        "collections": [("carrier_b", "1")],
        "sales": [("carrier_b", "1"), ("xx", "2")],
    }
    # mod_distributor.c warns "The total-weight attribute is no longer necessary."
    assert all(lst.get("total-weight") is None for lst in root.iter("list"))
    _golden("distributor.conf.xml", text)


def test_lcr_data_matches_golden() -> None:
    text = lcr_sql(TRUNKS)
    assert "VALUES (86139, 0.031, 0.031, 0.031, 3, 2, 0, '6'" in text
    _golden("lcr.sql", text)


def test_values_are_escaped() -> None:
    nasty = Trunk(
        name="evil",
        proxy_host="h",
        register=True,
        username='a"b<c>&d',
        password='p\'"></param><param name="x" value="y',
    )
    gateway = ET.fromstring(gateway_xml(nasty)).find("gateway")
    assert gateway is not None
    params = {p.get("name"): p.get("value") for p in gateway.iter("param")}
    assert params["username"] == nasty.username
    assert params["password"] == nasty.password
    assert "x" not in params
    assert sql_literal("O'Brien") == "'O''Brien'"


def test_write_all_lays_out_the_conf_dir(tmp_path: Path) -> None:
    paths = write_all(TRUNKS, tmp_path)
    assert (tmp_path / "sip_profiles/external/xx.xml").exists()
    assert (tmp_path / "autoload_configs/distributor.conf.xml") in paths
    assert (tmp_path / "lcr.sql").read_text() == lcr_sql(TRUNKS)


def test_write_all_for_one_node(tmp_path: Path) -> None:
    trunks = [
        Trunk(name="on1", proxy_host="h", fs_nodes=("fs1",)),
        Trunk(name="on2", proxy_host="h", fs_nodes=("fs2",)),
        Trunk(name="everywhere", proxy_host="h"),
    ]
    write_all(trunks, tmp_path, node="fs1")
    names = sorted(p.stem for p in (tmp_path / "sip_profiles/external").iterdir())
    assert names == ["everywhere", "on1"]
