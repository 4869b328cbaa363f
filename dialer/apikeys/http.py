"""Authentication and roles of the HTTP API: ``Authorization: Bearer <token>``.

`KeyAuth.require(*roles)` is the dependency every ``/v1`` route declares: no key or a wrong
one -> 401 (with ``WWW-Authenticate: Bearer``), a valid key of another role -> 403. The key
is the bearer token or, for the web console's pages (`dialer.web`), the same token kept in
the HTTP-only, same-site session cookie ``dialer_session``; a request that changes anything
with the cookie must also carry ``X-Dialer-Console: 1`` (a header no cross-site form can set,
beside what SameSite already refuses). No route
is open: a route without it is a defect the route table test finds. `ensure_self` keeps an
agent key to its own agent. ``GET /v1/me`` tells a key what it is.

Routes are built in functions (one router per context, over that context's services), so a
gate is a local name: it is given as a parameter default (``key: ApiKey = Depends(gate)``),
since an annotation naming a local cannot be resolved under postponed evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from dialer.apikeys.ports import ApiKey, KeyStore, Role
from dialer.apikeys.service import authenticate
from dialer.http_problems import Problem

__all__ = [
    "CONSOLE_HEADER",
    "SESSION_COOKIE",
    "KeyAuth",
    "RoleGate",
    "ensure_self",
    "keys_router",
    "token_of",
]

_BEARER = HTTPBearer(auto_error=False, description="an API key: dialer keys create")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
SESSION_COOKIE = "dialer_session"
CONSOLE_HEADER = "X-Dialer-Console"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_of(authorization: str | None, cookies: Mapping[str, str]) -> str | None:
    """The key a request or WebSocket carries: ``Authorization: Bearer``, else the session
    cookie."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return cookies.get(SESSION_COOKIE) or None


class RoleGate:
    """The dependency of a route open to ``roles``: the caller's `ApiKey`."""

    def __init__(self, store: KeyStore, roles: frozenset[Role]) -> None:
        self.store = store
        self.roles = roles

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
    ) -> ApiKey:
        token = credentials.credentials if credentials is not None else None
        if token is None:
            token = request.cookies.get(SESSION_COOKIE) or None
            changes = request.method not in _SAFE_METHODS
            if token is not None and changes and request.headers.get(CONSOLE_HEADER) != "1":
                detail = (
                    f"a request made with the session cookie needs the header {CONSOLE_HEADER}: 1"
                )
                raise Problem(403, detail)
        if token is None:
            raise Problem(
                401, "an API key is needed: Authorization: Bearer <key>", headers=_CHALLENGE
            )
        key = await run_in_threadpool(authenticate, self.store, token)
        if key is None:
            raise Problem(401, "the API key is not valid or was revoked", headers=_CHALLENGE)
        if key.role not in self.roles:
            allowed = " or ".join(sorted(self.roles))
            raise Problem(403, f"a {key.role} key may not do this (needs a {allowed} key)")
        return key


class KeyAuth:
    """Gates over one key store."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def require(self, *roles: Role) -> RoleGate:
        if not roles:
            raise ValueError("a route is open to at least one role")
        return RoleGate(self.store, frozenset(roles))


def ensure_self(key: ApiKey, agent: str) -> None:
    """An agent key acts only on its own agent (other roles on any)."""
    if key.role is Role.AGENT and key.agent != agent:
        raise Problem(403, f"this agent key acts as {key.agent!r}, not {agent!r}")


class KeyOut(BaseModel):
    """The calling key: its public id, role, agent (agent keys) and label."""

    key_id: str
    role: Role
    agent: str
    label: str


def keys_router(auth: KeyAuth) -> APIRouter:
    router = APIRouter(tags=["keys"])
    any_key = auth.require(Role.MANAGER, Role.AGENT, Role.SYSTEM)

    @router.get("/me", response_model=KeyOut)
    async def me(key: ApiKey = Depends(any_key)) -> KeyOut:
        """The key this request carries."""
        return KeyOut(key_id=key.key_id, role=key.role, agent=key.agent, label=key.label)

    return router
