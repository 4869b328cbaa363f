"""``GET /v1/campaigns/{name}/live`` (manager keys): a campaign's agents by phase, calls up by
stage and dial level, from the listener's live state (what the pacer reads), as
`dialer.runner.live.live_figures` computes them. Read in the server's thread pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import CampaignError, get_campaign
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.clock import Clock
from dialer.http_problems import Problem
from dialer.runner.live import live_figures
from dialer.runner.ports import LiveView

__all__ = ["LiveApi", "live_router"]


@dataclass(frozen=True, slots=True)
class LiveApi:
    sessions: sessionmaker[Session]
    live: Callable[[], LiveView]
    clock: Clock


class LiveOut(BaseModel):
    campaign: str
    queue: str
    agents_by_phase: dict[str, int] = Field(
        description="agents of the queue by phase: ready, offered, previewing, talking, "
        "wrap_up, away"
    )
    ringing: int = Field(description="calls up, not answered")
    waiting: int = Field(description="calls answered, waiting for an agent")
    talking: int = Field(description="calls connected to an agent")
    dial_level: float = Field(description="calls up per agent not away (0: none staffed)")


def live_router(auth: KeyAuth, api: LiveApi) -> APIRouter:
    router = APIRouter(prefix="/campaigns", tags=["campaigns"])
    manager = auth.require(Role.MANAGER)

    @router.get("/{name}/live", response_model=LiveOut)
    def live(name: str, key: ApiKey = Depends(manager)) -> LiveOut:
        """The campaign now, as the pacer sees it (the listener's live state)."""
        try:
            with api.sessions() as session:
                campaign = get_campaign(session, name)
                campaign_id, queue = campaign.id, campaign.queue_name
        except CampaignError as exc:
            raise Problem(404, str(exc)) from None
        try:
            view = api.live()
            agents, calls = view.agents(), view.calls(campaign_id)
        except (redis.RedisError, OSError) as exc:
            raise Problem(503, f"the live state cannot be read: {exc}") from None
        figures = live_figures(agents, calls, queue, api.clock.now().timestamp())
        return LiveOut(
            campaign=name, queue=queue, agents_by_phase=figures.agents_by_phase,
            ringing=figures.ringing, waiting=figures.waiting, talking=figures.talking,
            dial_level=figures.dial_level,
        )  # fmt: skip

    return router
