"""The rest of a switch's configuration for the dialer, laid out as FreeSWITCH's conf dir.

- ``autoload_configs/event_socket.conf.xml``: the inbound Event Socket the dialer connects to
  (listen port and password of the settings' `FsNode`, never FreeSWITCH's default password
  unless allowed), with ``apply-inbound-acl``;
- ``autoload_configs/acl.conf.xml``: the networks allowed to connect to it (loopback only
  unless given), plus the stock ``domains`` list;
- ``autoload_configs/modules.conf.xml``: what the dialplan and the dialer use, plus the
  call-center set of seed 000, each with a working configuration or left out with the reason
  (`fs_conf.modules`): ``fail2ban.conf.xml``, ``blacklist.conf.xml`` (the DNC list,
  `fs_conf.dnc`), ``python.conf.xml``, ``hiredis.conf.xml`` (a Redis the switch can reach),
  ``lcr.conf.xml`` (a PostgreSQL DSN);
- ``sip_profiles/external.xml``: the ``external`` profile, including the trunks' gateway
  files (``sip_profiles/external/<trunk>.xml``, `fs_conf.render.gateway_xml`);
- ``autoload_configs/callcenter.conf.xml``: one queue per distinct campaign queue. Agents and tiers
  are not in the XML: ``callcenter_config`` manages them (`dialer.agent_admin`), and a
  ``queue load|reload`` would reset XML agents (transcript m);
- ``dialplan/campaign.xml``: `fs_conf.dialplan`;
- ``autoload_configs/xml_curl.conf.xml`` (with `XmlCurlBinding`): mod_xml_curl asks the
  dialer's API for the dialplan, directory and configuration first (`fs_conf.xml_curl`);
- ``autoload_configs/xml_cdr.conf.xml``: mod_xml_cdr posts every customer leg's CDR to the
  dialer's ``/fsapi/cdr`` (`CdrPosting`): basic auth (``cred``), ``retries`` after the first
  try ``delay`` seconds apart, then the CDR is written to ``err-log-dir`` (``a_<uuid>.cdr.xml``,
  for ``dialer cdr import``), so none is lost while the dialer is down.

Values written from settings and data go through XML autoescape. ``$${name}`` values are
FreeSWITCH pre-processor variables of the stock ``vars.xml``. Pure except `write_switch_conf`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dialer.esl.ports import EslEndpoint
from dialer.routing.model import Trunk
from fs_conf.dialplan import DialplanOptions, check_queue_name, dialplan_xml
from fs_conf.dnc import DNC_LIST, DNC_LIST_PATH, SwitchDnc
from fs_conf.modules import ModulePlan, plan_modules
from fs_conf.render import render_template, write_all
from fs_conf.xml_curl import XmlCurlBinding, xml_curl_conf_xml

STRATEGIES = frozenset(
    {
        "ring-all",
        "longest-idle-agent",
        "round-robin",
        "top-down",
        "agent-with-least-talk-time",
        "agent-with-fewest-calls",
        "sequentially-by-agent-order",
        "random",
        "ring-progressively",
    }
)

# mod_event_socket's password when none (or an empty one) is configured
DEFAULT_ESL_PASSWORD = "ClueCon"
# the acl.conf.xml list that event_socket.conf.xml applies to inbound connections
ESL_ACL_LIST = "dialer_esl"
LOOPBACK_ACL = ("127.0.0.0/8", "::1/128")
# a ``pgsql://`` DSN (mod_lcr, mod_callcenter) needs the PostgreSQL driver loaded first
PGSQL_MODULE = "mod_pgsql"
PGSQL_DSN_PREFIX = "pgsql://"


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """One mod_callcenter queue's parameters (names as in callcenter.conf.xml, units in the
    names). ``max_wait_time_s`` 2: an answered caller not connected within 2 s leaves the
    queue (TIMEOUT, after 1.5-2.05 s: whole seconds checked every 0.5 s, DESIGN Findings)."""

    strategy: str = "longest-idle-agent"
    moh_sound: str = "local_stream://moh"
    time_base_score: str = "system"
    max_wait_time_s: int = 2
    # no agent logged in for 2 s: new callers leave at once (k2: NO_AGENT_TIMEOUT)
    max_wait_time_with_no_agent_s: int = 2
    max_wait_time_with_no_agent_time_reached_s: int = 0
    tier_rules_apply: bool = False
    tier_rule_wait_second: int = 300
    tier_rule_wait_multiply_level: bool = True
    tier_rule_no_agent_no_wait: bool = False
    discard_abandoned_after_s: int = 60
    abandoned_resume_allowed: bool = False

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown queue strategy {self.strategy!r}")
        if self.max_wait_time_s < 1:
            # 0 disables the limit: an answered caller would wait for an agent indefinitely
            raise ValueError(f"max-wait-time must be >= 1 s, not {self.max_wait_time_s}")
        if self.time_base_score not in ("queue", "system"):
            raise ValueError(f"time-base-score must be queue or system: {self.time_base_score!r}")


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    settings: QueueSettings = QueueSettings()


@dataclass(frozen=True, slots=True)
class CdrPosting:
    """Where and how mod_xml_cdr posts CDRs (param names of its ``xml_cdr.conf``).

    ``credentials``: ``user:pass`` sent as HTTP basic auth (empty: none). ``retries`` after
    the first try, ``delay_s`` apart; they run in the channel's reporting state, before its
    CHANNEL_HANGUP_COMPLETE (transcript v), so they are kept short. ``timeout_s`` bounds one
    try (mod_xml_cdr's default 0 waits forever). ``err_log_dir`` relative to FreeSWITCH's
    log directory unless absolute (mod_xml_cdr's rule)."""

    url: str = "http://127.0.0.1:8080/fsapi/cdr"
    credentials: str = ""
    retries: int = 2
    delay_s: int = 2
    timeout_s: int = 10
    err_log_dir: str = "xml_cdr_err"

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"CDR url must be http:// or https://, not {self.url!r}")
        for name, value in (("url", self.url), ("credentials", self.credentials),
                            ("err-log-dir", self.err_log_dir)):  # fmt: skip
            if "${" in value or any(c in value for c in "\r\n"):
                raise ValueError(f"CDR {name} must not hold a variable or a line break")
        if self.retries < 0 or self.delay_s < 1 or self.timeout_s < 1:
            raise ValueError("CDR retries must be >= 0, delay and timeout >= 1 s")


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """The Redis mod_hiredis connects to (profile ``default``); ``timeout_ms`` per command."""

    host: str
    port: int = 6379
    password: str = ""
    timeout_ms: int = 500
    max_connections: int = 5


@dataclass(frozen=True, slots=True)
class SwitchOptions:
    """Everything of a node's configuration that is not a trunk or a campaign."""

    esl_listen_ip: str | None = None  # None: the node's host from the settings
    esl_password: str | None = None  # None: the node's password from the settings
    esl_acl: tuple[str, ...] = ()  # CIDRs that may connect; none: loopback only
    allow_default_password: bool = False
    sip_port: str = "$${external_sip_port}"
    sip_ip: str = "$${local_ip_v4}"
    ext_ip: str = "auto-nat"
    codecs: str = "PCMA,PCMU"
    queue: QueueSettings = QueueSettings()
    callcenter_odbc_dsn: str = ""
    lcr_odbc_dsn: str = ""  # empty: mod_lcr left out; else lcr.conf.xml (the lcr.sql tables)
    dialplan: DialplanOptions = field(default_factory=DialplanOptions)
    callcenter_modules: bool = True
    cdr: CdrPosting = CdrPosting()
    redis: RedisTarget | None = None  # None: mod_hiredis left out
    fail2ban_logfile: str = "$${log_dir}/fail2ban.log"
    # sofia profile params (seconds) that replace the deprecated rtp-timeout-sec /
    # rtp-hold-timeout-sec: a call without RTP that long is hung up
    media_timeout_s: int = 300
    media_hold_timeout_s: int = 1800
    dnc: SwitchDnc = field(default_factory=lambda: SwitchDnc((), ""))
    xml_curl: XmlCurlBinding | None = None  # None: no mod_xml_curl


def queues_for(queue_names: Iterable[str], settings: QueueSettings) -> list[Queue]:
    """One queue per distinct name, sorted; names are checked (`check_queue_name`)."""
    return [Queue(check_queue_name(n), settings) for n in sorted(set(queue_names))]


@dataclass(frozen=True, slots=True)
class EventSocketAccess:
    """Who may use a node's Event Socket: where it listens, its password, and the networks
    (CIDRs) allowed to connect, as the ``ESL_ACL_LIST`` list of acl.conf.xml."""

    listen_ip: str
    port: int
    password: str
    acl_cidrs: tuple[str, ...]


def event_socket_access(
    node: EslEndpoint,
    *,
    listen_ip: str | None = None,
    password: str | None = None,
    acl: Iterable[str] = (),
    allow_default_password: bool = False,
) -> EventSocketAccess:
    """The checked access of ``node``'s Event Socket; ValueError names what is wrong.

    ``listen_ip`` defaults to the node's host, which must then be an IP address (FreeSWITCH
    binds ``listen-ip`` as given); ``password`` to the node's. FreeSWITCH's default password
    (which an empty one also falls back to) is refused unless ``allow_default_password``.
    ``acl`` defaults to loopback only, and must be given for any other listen address.
    """
    address = listen_ip or node.host
    try:
        listen = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(
            f"Event Socket listen-ip {address!r} is not an IP address; give one explicitly"
        ) from None
    secret = node.password if password is None else password
    if (secret or DEFAULT_ESL_PASSWORD) == DEFAULT_ESL_PASSWORD and not allow_default_password:
        raise ValueError(
            f"the Event Socket password is FreeSWITCH's default {DEFAULT_ESL_PASSWORD!r}, known "
            "to anyone who can reach the port: give --esl-password (and the same password in "
            "DIALER_FREESWITCH_NODES), or --allow-default-password"
        )
    cidrs = tuple(_cidr(c) for c in acl)
    if not cidrs:
        if not listen.is_loopback:
            raise ValueError(
                f"the Event Socket listens on {address}, beyond this machine: give --esl-acl "
                "with the networks of the dialer's processes (CIDRs, comma-separated)"
            )
        cidrs = LOOPBACK_ACL
    return EventSocketAccess(address, node.port, secret, cidrs)


def _cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip()))
    except ValueError as exc:
        raise ValueError(f"Event Socket ACL entry {text!r} is not a CIDR: {exc}") from None


def event_socket_xml(access: EventSocketAccess) -> str:
    """event_socket.conf.xml: bound to ``access.listen_ip``, with ``apply-inbound-acl``
    naming the ``ESL_ACL_LIST`` list of `acl_conf_xml`."""
    return render_template("event_socket.conf.xml.j2", access=access, acl_list=ESL_ACL_LIST)


def acl_conf_xml(access: EventSocketAccess) -> str:
    """acl.conf.xml: the Event Socket's list (deny all but ``access.acl_cidrs``) and the stock
    ``domains`` list, which the stock internal SIP profile applies."""
    return render_template("acl.conf.xml.j2", acl_list=ESL_ACL_LIST, cidrs=access.acl_cidrs)


def module_plan(options: SwitchOptions) -> ModulePlan:
    return plan_modules(
        amd=options.dialplan.amd,
        callcenter_modules=options.callcenter_modules,
        pgsql=any(
            dsn.startswith(PGSQL_DSN_PREFIX)
            for dsn in (options.lcr_odbc_dsn, options.callcenter_odbc_dsn)
        ),
        lcr=bool(options.lcr_odbc_dsn),
        hiredis=options.redis is not None,
        xml_curl=options.xml_curl is not None,
    )


def modules_xml(plan: ModulePlan) -> str:
    """modules.conf.xml: the plan's groups, then one comment per module left out, with why."""
    return render_template("modules.conf.xml.j2", groups=plan.groups, left_out=plan.left_out)


def fail2ban_xml(logfile: str) -> str:
    return render_template("fail2ban.conf.xml.j2", logfile=logfile)


def blacklist_xml() -> str:
    """mod_blacklist's lists: ``dialer_dnc``, the rendered ``blacklists/dialer_dnc.list``."""
    lists = [{"name": DNC_LIST, "filename": f"$${{conf_dir}}/{DNC_LIST_PATH}"}]
    return render_template("blacklist.conf.xml.j2", lists=lists)


def hiredis_xml(redis: RedisTarget) -> str:
    return render_template("hiredis.conf.xml.j2", redis=redis)


def python_xml() -> str:
    """An empty python.conf: mod_python3 loads without "Open of python.conf failed"."""
    return render_template("python.conf.xml.j2")


def external_profile_xml(
    options: SwitchOptions,
    profile: str = "external",
    inline_gateways: Iterable[Trunk] | None = None,
) -> str:
    """The ``external`` profile: its ``<gateways>`` include ``external/*.xml`` (the rendered
    gateway files), or with ``inline_gateways`` hold those gateways themselves (what the API
    serves over mod_xml_curl, where an include would read the switch's own files)."""
    return render_template(
        "external.xml.j2",
        profile=profile,
        inline_gateways=None if inline_gateways is None else list(inline_gateways),
        sip_port=options.sip_port,
        sip_ip=options.sip_ip,
        rtp_ip=options.sip_ip,
        ext_ip=options.ext_ip,
        codecs=options.codecs,
        moh_sound=options.queue.moh_sound,
        media_timeout_s=options.media_timeout_s,
        media_hold_timeout_s=options.media_hold_timeout_s,
    )


def callcenter_xml(queues: Iterable[Queue], odbc_dsn: str = "") -> str:
    return render_template("callcenter.conf.xml.j2", queues=list(queues), odbc_dsn=odbc_dsn)


def xml_cdr_xml(cdr: CdrPosting) -> str:
    return render_template("xml_cdr.conf.xml.j2", cdr=cdr)


def lcr_conf_xml(odbc_dsn: str) -> str:
    """mod_lcr's database and its ``default`` profile (id 0, the ``lcr_profile`` of lcr.sql)."""
    return render_template("lcr.conf.xml.j2", dsn=odbc_dsn)


def write_switch_conf(
    out_dir: Path,
    trunks: Iterable[Trunk],
    campaigns: Iterable[tuple[str, str]],
    node: EslEndpoint,
    options: SwitchOptions = SwitchOptions(),
    node_name: str | None = None,
) -> list[Path]:
    """Write the whole dialer configuration of one node under ``out_dir``; returns paths.

    ``campaigns`` are ``(name, queue)`` pairs. Trunk files come from
    `fs_conf.render.write_all` (``node_name`` selects the trunks). Nothing is written when a
    name is refused.
    """
    campaign_list = list(campaigns)
    access = event_socket_access(
        node,
        listen_ip=options.esl_listen_ip,
        password=options.esl_password,
        acl=options.esl_acl,
        allow_default_password=options.allow_default_password,
    )
    plan = module_plan(options)
    dialplan = replace(options.dialplan, dnc_prefix_regex=options.dnc.prefix_regex)
    files = {
        Path("autoload_configs/event_socket.conf.xml"): event_socket_xml(access),
        Path("autoload_configs/acl.conf.xml"): acl_conf_xml(access),
        Path("autoload_configs/modules.conf.xml"): modules_xml(plan),
        Path("autoload_configs/callcenter.conf.xml"): callcenter_xml(
            queues_for((q for _, q in campaign_list), options.queue), options.callcenter_odbc_dsn
        ),
        Path("sip_profiles/external.xml"): external_profile_xml(options),
        Path("dialplan/campaign.xml"): dialplan_xml(campaign_list, dialplan),
        Path("autoload_configs/xml_cdr.conf.xml"): xml_cdr_xml(options.cdr),
    }
    loaded = set(plan.loaded)
    if "mod_lcr" in loaded:
        files[Path("autoload_configs/lcr.conf.xml")] = lcr_conf_xml(options.lcr_odbc_dsn)
    if "mod_fail2ban" in loaded:
        files[Path("autoload_configs/fail2ban.conf.xml")] = fail2ban_xml(options.fail2ban_logfile)
    if "mod_blacklist" in loaded:
        files[Path("autoload_configs/blacklist.conf.xml")] = blacklist_xml()
        files[Path(DNC_LIST_PATH)] = options.dnc.list_text()
    if "mod_python3" in loaded:
        files[Path("autoload_configs/python.conf.xml")] = python_xml()
    if options.xml_curl is not None:
        files[Path("autoload_configs/xml_curl.conf.xml")] = xml_curl_conf_xml(options.xml_curl)
    if options.redis is not None and "mod_hiredis" in loaded:
        files[Path("autoload_configs/hiredis.conf.xml")] = hiredis_xml(options.redis)
    written = write_all(trunks, out_dir, node_name)
    for relative, text in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
