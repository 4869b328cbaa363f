"""Reservation load from many processes against one Redis, logged for :mod:`.audit`.

Each process reserves calls on random trunks for random numbers and caller IDs, holds a few
and releases them in random order, and reports every grant with the server's grant and
release times plus a count of refusals by kind.
"""

from __future__ import annotations

import multiprocessing
import random
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from dialer.routing.adapters import RedisReservations
from dialer.routing.audit import Grant, TrunkLimits
from dialer.routing.lines import declare_idle
from dialer.routing.ports import ReservationRequest


@dataclass(frozen=True, slots=True)
class LoadPlan:
    trunks: Mapping[str, TrunkLimits]
    numbers: tuple[str, ...]
    caller_ids: tuple[str, ...]
    attempts: int
    max_held: int = 3
    lease_s: float = 60.0


def _run_one(url: str, prefix: str, plan: LoadPlan, seed: int) -> tuple[list[Grant], Counter[str]]:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    reservations = RedisReservations(client, prefix)
    rng = random.Random(seed)
    names = sorted(plan.trunks)
    held: list[str] = []
    grants: dict[str, Grant] = {}
    refusals: Counter[str] = Counter()
    for _ in range(plan.attempts):
        trunk = rng.choice(names)
        lim = plan.trunks[trunk]
        request = ReservationRequest(
            call_uuid=uuid.uuid4().hex,
            trunk=trunk,
            max_concurrency=lim.max_concurrency,
            max_cps=lim.max_cps,
            lease_s=plan.lease_s,
            number=rng.choice(plan.numbers),
            per_number_cap=lim.per_number_cap,
            number_window="load",
            number_ttl_s=600,
            caller_id=rng.choice(plan.caller_ids),
            caller_id_cap=lim.caller_id_cap,
            caller_id_day="load",
            caller_id_ttl_s=600,
        )
        result = reservations.reserve(request)
        if not result.granted:
            refusals[str(result.refusal)] += 1
            continue
        grants[request.call_uuid] = Grant(
            trunk, request.call_uuid, request.number, request.caller_id, result.server_time_us, 0
        )
        held.append(request.call_uuid)
        while held and (len(held) > plan.max_held or rng.random() < 0.3):
            _release(reservations, grants, held.pop(rng.randrange(len(held))))
    for call in held:
        _release(reservations, grants, call)
    client.close()
    return list(grants.values()), refusals


def _release(reservations: RedisReservations, grants: dict[str, Grant], call: str) -> None:
    g = grants[call]
    freed, at_us = reservations.release_at(g.trunk, call)
    if not freed:
        raise AssertionError(f"slot of {call} vanished before its release")
    grants[call] = Grant(g.trunk, g.call_uuid, g.number, g.caller_id, g.granted_us, at_us)


def _child(url: str, prefix: str, plan: LoadPlan, seed: int, out: Any) -> None:
    try:
        out.put(_run_one(url, prefix, plan, seed))
    except BaseException as exc:
        out.put(exc)
        raise


def run_load(
    url: str, prefix: str, plan: LoadPlan, processes: int, timeout_s: float = 120.0
) -> tuple[list[Grant], Counter[str]]:
    """Run ``processes`` forked workers; returns every grant and the refusals by kind."""
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    declare_idle(RedisReservations(client, prefix), sorted(plan.trunks), "loadgen")
    client.close()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(url, prefix, plan, seed, queue))
        for seed in range(processes)
    ]
    for p in procs:
        p.start()
    grants: list[Grant] = []
    refusals: Counter[str] = Counter()
    try:
        for _ in procs:
            reply = queue.get(timeout=timeout_s)
            if isinstance(reply, BaseException):
                raise reply
            grants.extend(reply[0])
            refusals.update(reply[1])
    finally:
        for p in procs:
            p.join(timeout=30)
    return grants, refusals
