"""Campaign lifecycle: create and update with validated rules, list, show, status
transitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.domain import UNSETTLED, CampaignStatus, DialMode, LeadStatus, RetryOrder
from campaigns.models import Campaign, Lead
from campaigns.rules import CallingWindow, RetryPolicy
from dialer.postcall.signing import check_secret, new_secret
from dialer.postcall.webhooks import check_url

# Which statuses each action may start from; ``completed`` is set by the dialer itself.
_TRANSITIONS: dict[str, tuple[frozenset[CampaignStatus], CampaignStatus]] = {
    "start": (
        frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED, CampaignStatus.STOPPED}),
        CampaignStatus.RUNNING,
    ),
    "pause": (frozenset({CampaignStatus.RUNNING}), CampaignStatus.PAUSED),
    "stop": (
        frozenset({CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED}),
        CampaignStatus.STOPPED,
    ),
}


# What the start's preflight checked on every switch (the queue and dialplan entry, the
# trunks, the dial mode's pacing): changed only while the campaign is not running, so that a
# start checks them again.
FIXED_WHILE_RUNNING = ("queue_name", "dial_mode", "trunk_group")


class CampaignError(Exception):
    """A campaign request that cannot be carried out; the message says why."""


class CampaignNotFound(CampaignError):
    """No campaign has the name given."""


class CampaignConflict(CampaignError):
    """The request does not fit the campaign's state: a name taken, a status change not
    allowed from its status, a setting that cannot change while it runs (``fields``)."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class InvalidCampaign(CampaignError):
    """Settings that do not validate; ``errors`` holds (field, what is wrong) pairs."""

    def __init__(self, message: str, errors: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


def known_region(region: str) -> str:
    """``region`` upper-cased: an ISO 3166 alpha-2 code phonenumbers knows (else ValueError)."""
    import phonenumbers

    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{region!r} is not a region code phonenumbers knows")
    return region.upper()


class CampaignSpec(BaseModel):
    """What a manager states when creating a campaign (CLI flags or API body)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    queue_name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    dial_mode: DialMode = DialMode.PREDICTIVE
    default_region: str = "CN"
    calling_window: CallingWindow = CallingWindow()
    retry_rules: RetryPolicy = RetryPolicy()
    abandon_target_pct: float = Field(default=3.0, gt=0, le=100)
    abandon_window_days: int = Field(default=30, ge=1, le=366)
    abandon_run_limit: int = Field(default=5, ge=1, le=1000)
    max_attempts: int = Field(default=3, ge=1, le=100)
    retry_order: RetryOrder = RetryOrder.RETRIES_FIRST
    trunk_group: str | None = None
    caller_id_policy: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = Field(default=None, max_length=2048)
    # signs every delivery to webhook_url; one is made when a URL is set without it
    webhook_secret: str | None = Field(default=None, max_length=200)
    # record each answered call and keep the file the switch uploads (off by default)
    record: bool = False

    @field_validator("default_region")
    @classmethod
    def _region(cls, region: str) -> str:
        return known_region(region)

    @field_validator("caller_id_policy")
    @classmethod
    def _caller_ids(cls, policy: dict[str, Any]) -> dict[str, Any]:
        # The trunks' own reading of the policy, so a caller ID the originate would refuse is
        # refused here, when the campaign is made.
        from dialer.routing.orm import caller_id_from_json

        if policy:
            try:
                caller_id_from_json(policy)
            except (TypeError, AttributeError) as exc:
                raise ValueError(f"not a caller-ID policy ({exc})") from None
        return policy

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, url: str | None) -> str | None:
        if url is None:
            return None
        return check_url(url)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, secret: str | None) -> str | None:
        return check_secret(secret) if secret is not None else None


def parse_spec(**fields: Any) -> CampaignSpec:
    try:
        return CampaignSpec(**fields)
    except ValidationError as exc:
        errors = [
            (".".join(str(p) for p in e["loc"]) or "campaign", e["msg"]) for e in exc.errors()
        ]
        problems = "; ".join(f"{field}: {msg}" for field, msg in errors)
        raise InvalidCampaign(f"invalid campaign: {problems}", errors) from None


def _column_values(spec: CampaignSpec) -> dict[str, Any]:
    """The spec as the campaigns table holds it: the rules as their JSON."""
    return spec.model_dump() | {
        "calling_window": spec.calling_window.model_dump(mode="json"),
        "retry_rules": spec.retry_rules.model_dump(mode="json"),
    }


def create_campaign(session: Session, spec: CampaignSpec) -> Campaign:
    if session.scalars(select(Campaign.id).where(Campaign.name == spec.name)).first() is not None:
        raise CampaignConflict(f"a campaign named {spec.name!r} exists already", ("name",))
    campaign = Campaign(**_column_values(spec))
    _secret_webhook(campaign)
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, name: str, changes: Mapping[str, Any]) -> Campaign:
    """Change the named settings of a campaign (any `CampaignSpec` field but its name; while
    it runs, none of `FIXED_WHILE_RUNNING`), validated as at creation; nothing changes when
    one is invalid or refused."""
    if "name" in changes:
        raise CampaignConflict(f"campaign {name!r}: a campaign's name cannot change", ("name",))
    campaign = get_campaign(session, name)
    fixed = tuple(f for f in FIXED_WHILE_RUNNING if f in changes)
    if fixed and campaign.status is CampaignStatus.RUNNING:
        raise CampaignConflict(
            f"campaign {name!r} is running: {', '.join(fixed)} cannot change while it runs "
            "(the start checked them on the switches); pause it, change them, start it again",
            fixed,
        )
    current = {field: getattr(campaign, field) for field in CampaignSpec.model_fields}
    values = _column_values(parse_spec(**(current | dict(changes))))
    for field in changes:
        setattr(campaign, field, values[field])
    _secret_webhook(campaign)
    return campaign


def _secret_webhook(campaign: Campaign) -> None:
    """Every webhook URL has a secret to sign its deliveries with: a new one when none was
    given (the caller reads it from ``campaign.webhook_secret`` to show it once); without a
    URL, no secret is kept (a later URL gets a new one)."""
    if campaign.webhook_url is None:
        campaign.webhook_secret = None
    elif not campaign.webhook_secret:
        campaign.webhook_secret = new_secret()


def get_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalars(select(Campaign).where(Campaign.name == name)).one_or_none()
    if campaign is None:
        raise CampaignNotFound(f"no campaign named {name!r}")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.name)))


def transition(session: Session, name: str, action: str) -> Campaign:
    """Apply ``action`` (start, pause, stop) or explain why it is not allowed now; a start
    clears the reason the dialer gave for pausing the campaign itself."""
    allowed_from, target = _TRANSITIONS[action]
    campaign = get_campaign(session, name)
    if action == "start" and campaign.dial_mode is DialMode.PREVIEW:
        # Preview needs the answered call delivered to the one agent who previewed the lead;
        # the campaign dialplan hands calls to the queue, so such a campaign would never dial.
        raise CampaignConflict(
            f"cannot start campaign {name!r}: preview mode is not dialled yet "
            "(use progressive or predictive)"
        )
    if campaign.status not in allowed_from:
        raise CampaignConflict(
            f"cannot {action} campaign {name!r}: it is {campaign.status.value} "
            f"(allowed from {', '.join(sorted(s.value for s in allowed_from))})"
        )
    campaign.status = target
    if action == "start":
        campaign.pause_reason = None
        campaign.paused_at = None
    return campaign


@dataclass(frozen=True, slots=True)
class LeadCounts:
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def lead_counts(session: Session, campaign_id: int) -> LeadCounts:
    rows = session.execute(
        select(Lead.status, func.count())
        .where(Lead.campaign_id == campaign_id)
        .group_by(Lead.status)
    )
    counts = {s.value: 0 for s in LeadStatus}
    counts.update({LeadStatus(status).value: n for status, n in rows})
    return LeadCounts(counts)


def calling_window_of(campaign: Campaign) -> CallingWindow:
    return CallingWindow.model_validate(campaign.calling_window)


def retry_policy_of(campaign: Campaign) -> RetryPolicy:
    return RetryPolicy.model_validate(campaign.retry_rules)


def release_unknown_leads(session: Session, campaign: str | None, now: datetime) -> int:
    """Put the leads held by an ``unknown`` attempt (status ``failed``, last outcome
    ``unknown``) of ``campaign`` (a name; None: every campaign) back to ``pending``, due at
    ``now``; their attempt counts stay. Returns how many. A manager's decision: such a
    customer may already have talked to an agent."""
    held = [Lead.status == LeadStatus.FAILED, Lead.last_outcome == UNSETTLED]
    if campaign is not None:
        held.append(Lead.campaign_id == get_campaign(session, campaign).id)
    result = session.execute(
        update(Lead)
        .where(*held)
        .values(status=LeadStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
