"""The pages of the web console and the agent's desk (docs/web.md).

Each page is a shell rendered here; its data and every action go through the ``/v1`` routes
(the same services as the CLI) from the page's script, authenticated by the session cookie
that ``POST /login`` sets from a key (`dialer.apikeys.http.SESSION_COOKIE`: HTTP-only,
SameSite=Strict). A page without a valid session redirects to ``/login``; a manager key
opens the console, an agent key only its own desk; a system key has no pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dialer.apikeys.http import SESSION_COOKIE
from dialer.apikeys.ports import ApiKey, KeyStore, Role
from dialer.apikeys.service import authenticate

__all__ = ["STATIC_DIR", "static_files", "web_router"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
# a session lasts a working day; the key itself stays valid until revoked
SESSION_MAX_AGE_S = 12 * 3600
CONSOLE_PAGES = ("campaigns", "trunks", "dnc", "agents")
INVALID_KEY = "This key is not valid or was revoked."
SYSTEM_KEY = "A system key has no pages: use a manager or agent key."


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def _home(key: ApiKey) -> str:
    return "/console" if key.role is Role.MANAGER else f"/desk/{quote(key.agent, safe='@')}"


def _safe_next(target: str) -> str:
    """Only a path of this site (never ``//host`` or a URL) is followed after the login."""
    return target if target.startswith("/") and not target.startswith("//") else ""


def web_router(keys: KeyStore) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    templates = Jinja2Templates(directory=HERE / "templates")

    async def session_key(request: Request) -> ApiKey | None:
        token = request.cookies.get(SESSION_COOKIE)
        return None if not token else await run_in_threadpool(authenticate, keys, token)

    def to_login(request: Request) -> Response:
        target = quote(request.url.path, safe="/@")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "") -> Response:
        return render(request, "login.html.j2", next=_safe_next(next), error="")

    @router.post("/login")
    async def login(
        request: Request, key: Annotated[str, Form()], next: Annotated[str, Form()] = ""
    ) -> Response:
        found = await run_in_threadpool(authenticate, keys, key.strip())
        if found is None or found.role is Role.SYSTEM:
            status, error = (401, INVALID_KEY) if found is None else (403, SYSTEM_KEY)
            return render(request, "login.html.j2", status, next=_safe_next(next), error=error)
        target = _safe_next(next)
        if not target or (found.role is Role.AGENT and target != _home(found)):
            target = _home(found)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, key.strip(), max_age=SESSION_MAX_AGE_S, path="/", httponly=True,
            samesite="strict", secure=request.url.scheme == "https",
        )  # fmt: skip
        return response

    @router.post("/logout")
    async def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/")
    async def home(request: Request) -> Response:
        key = await session_key(request)
        return to_login(request) if key is None else RedirectResponse(_home(key), 303)

    async def console(request: Request, template: str, **context: Any) -> Response:
        key = await session_key(request)
        if key is None:
            return to_login(request)
        if key.role is not Role.MANAGER:
            return RedirectResponse(_home(key), status_code=303)
        return render(request, template, key=key, **context)

    @router.get("/console", response_class=HTMLResponse)
    async def campaigns_page(request: Request) -> Response:
        return await console(request, "campaigns.html.j2", page="campaigns")

    @router.get("/console/campaigns/{name}", response_class=HTMLResponse)
    async def campaign_page(request: Request, name: str) -> Response:
        return await console(request, "campaign.html.j2", page="campaigns", campaign=name)

    @router.get("/console/{page}", response_class=HTMLResponse)
    async def other_page(request: Request, page: str) -> Response:
        if page not in CONSOLE_PAGES[1:]:
            return RedirectResponse("/console", status_code=303)
        return await console(request, f"{page}.html.j2", page=page)

    @router.get("/desk/{name}", response_class=HTMLResponse)
    async def desk_page(request: Request, name: str) -> Response:
        key = await session_key(request)
        if key is None:
            return to_login(request)
        if key.role is Role.AGENT and key.agent != name:
            return RedirectResponse(_home(key), status_code=303)
        if key.role is Role.SYSTEM:
            return to_login(request)
        return render(request, "desk.html.j2", key=key, agent=name, page="desk")

    return router
