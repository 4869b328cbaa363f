"""The rendered tree loads cleanly: every module ``modules.conf.xml`` loads finds each
configuration it reads (`fs_conf.modules.MODULE_CONFIGS`, from FreeSWITCH's sources) rendered
or fit in the stock tree, none points at a database that does not exist, and no parameter
FreeSWITCH 1.10.12 reports as deprecated is written (issue 17's load log)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dialer.config import FsNode
from dialer.routing.model import Trunk
from fs_conf.dnc import DNC_LIST, DNC_LIST_PATH, switch_dnc
from fs_conf.modules import MODULE_CONFIGS, STOCK_FIT, UNCHECKED
from fs_conf.switch import RedisTarget, SwitchOptions, write_switch_conf
from fs_conf.xml_curl import XmlCurlBinding

NODE = FsNode(password="s3cret")
CAMPAIGNS = [("sales", "sales@default")]
TRUNKS = [Trunk(name="t1", proxy_host="192.0.2.1")]
# what FreeSWITCH 1.10.12 logged as deprecated for the former render (issue 17)
DEPRECATED_PARAMS = {"rtp-timeout-sec", "rtp-hold-timeout-sec"}
DEPRECATED_ATTRIBUTES = {("list", "total-weight")}  # mod_distributor.c:148
OPTION_SETS = {
    "sqlite, embedded redis": SwitchOptions(),
    "postgresql, redis server": SwitchOptions(
        lcr_odbc_dsn="pgsql://hostaddr=10.0.0.3 dbname=dialer user=fs",
        redis=RedisTarget("10.0.0.4", 6380, "pw"),
        dnc=switch_dnc(["+16138000005"], ["+1900"], TRUNKS),
        xml_curl=XmlCurlBinding("http://10.0.0.2:8080/fsapi/xml_curl?node=fs1", "fs1:pw"),
    ),
}


def _render(tmp_path: Path, options: SwitchOptions) -> dict[str, ET.Element]:
    write_switch_conf(tmp_path, TRUNKS, CAMPAIGNS, NODE, options)
    configurations = {}
    for path in (tmp_path / "autoload_configs").glob("*.xml"):
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        assert root.tag == "configuration", path
        configurations[root.get("name", "")] = root
    return configurations


def _loaded(configurations: dict[str, ET.Element]) -> list[str]:
    return [m.get("module", "") for m in configurations["modules.conf"].iter("load")]


@pytest.mark.parametrize("options", OPTION_SETS.values(), ids=OPTION_SETS.keys())
def test_every_loaded_module_has_the_configuration_it_reads(
    tmp_path: Path, options: SwitchOptions
) -> None:
    configurations = _render(tmp_path, options)
    for module in _loaded(configurations):
        if module in UNCHECKED:
            continue
        assert module in MODULE_CONFIGS, f"{module}: not in the table of FreeSWITCH's sources"
        reads, _source = MODULE_CONFIGS[module]
        for name in reads:
            assert name in configurations or name in STOCK_FIT, f"{module} reads {name}"


@pytest.mark.parametrize("options", OPTION_SETS.values(), ids=OPTION_SETS.keys())
def test_no_deprecated_parameter_is_rendered(tmp_path: Path, options: SwitchOptions) -> None:
    _render(tmp_path, options)
    for path in tmp_path.rglob("*.xml"):
        for element in ET.fromstring(path.read_text(encoding="utf-8")).iter():
            assert element.get("name") not in DEPRECATED_PARAMS or element.tag != "param", path
            for tag, attribute in DEPRECATED_ATTRIBUTES:
                assert element.tag != tag or element.get(attribute) is None, path
    profile = ET.fromstring((tmp_path / "sip_profiles/external.xml").read_text())
    params = {p.get("name"): p.get("value") for p in profile.iter("param")}
    assert (params["media_timeout"], params["media_hold_timeout"]) == ("300", "1800")


def test_databases_exist_or_the_module_is_left_out(tmp_path: Path) -> None:
    sqlite = _render(tmp_path / "a", OPTION_SETS["sqlite, embedded redis"])
    assert not {"mod_lcr", "mod_hiredis", "mod_redis", "mod_cidlookup", "mod_nibblebill"} & set(
        _loaded(sqlite)
    )
    assert "lcr.conf" not in sqlite and "hiredis.conf" not in sqlite
    pg = _render(tmp_path / "b", OPTION_SETS["postgresql, redis server"])
    loaded = _loaded(pg)
    assert loaded.index("mod_pgsql") < loaded.index("mod_lcr")
    dsn = {p.get("name"): p.get("value") for p in pg["lcr.conf"].iter("param")}["odbc-dsn"]
    assert dsn is not None and dsn.startswith("pgsql://")
    connection = {p.get("name"): p.get("value") for p in pg["hiredis.conf"].iter("param")}
    assert (connection["hostname"], connection["port"], connection["password"]) == (
        "10.0.0.4",
        "6380",
        "pw",
    )
    assert "mod_redis" not in loaded
    assert "mod_xml_curl" in loaded and "xml_curl.conf" in pg


def test_fail2ban_and_blacklist_files_are_there(tmp_path: Path) -> None:
    configurations = _render(tmp_path, OPTION_SETS["postgresql, redis server"])
    fail2ban = configurations["fail2ban.conf"]
    logfile = {p.get("name"): p.get("value") for p in fail2ban.iter("param")}
    assert logfile["logfile"]
    blacklist = configurations["mod_blacklist.conf"]
    lists = {e.get("name"): e.get("filename") for e in blacklist.iter("list")}
    assert lists == {DNC_LIST: f"$${{conf_dir}}/{DNC_LIST_PATH}"}
    listed = (tmp_path / DNC_LIST_PATH).read_text().splitlines()
    assert "16138000005" in listed and "6138000005" in listed
