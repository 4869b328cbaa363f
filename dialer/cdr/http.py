"""The switch-facing CDR endpoint, ``POST /fsapi/cdr``: thin over `dialer.cdr.service`.

The switch authenticates with HTTP basic auth, as mod_xml_cdr's ``cred`` param (``user:pass``,
``auth-scheme`` basic) sends it. mod_xml_cdr counts only a ``200`` as delivered: anything else
is retried (``retries``, ``delay``) and then written to its err-log-dir, so refusing a body is
never losing it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from dialer.cdr.parse import MAX_CDR_BYTES, CdrError
from dialer.cdr.service import CdrDeps, receive_cdr

__all__ = ["FSAPI_PREFIX", "fsapi_authorized", "fsapi_refusal", "fsapi_router", "fsapi_text"]

FSAPI_PREFIX = "/fsapi"
log = logging.getLogger(__name__)


def fsapi_authorized(header: str, credentials: str) -> bool:
    """``Authorization: Basic ...`` carrying exactly ``credentials`` (``user:pass``)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return False
    try:
        sent = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return secrets.compare_digest(sent, credentials.encode("utf-8"))


def fsapi_text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer to the switch (mod_xml_cdr, mod_xml_curl and curl read its status)."""
    return Response(text + "\n", status_code=status, media_type="text/plain", headers=headers)


def fsapi_refusal(
    request: Request, credentials: str, max_bytes: int, too_large: str
) -> Response | None:
    """The answer refusing a post to ``/fsapi`` before its body is read: 503 while no
    ``credentials`` are configured, 401 without them, 413 (``too_large``) for a declared
    length over ``max_bytes``; None when the post may be read."""
    if not credentials:
        return fsapi_text(503, "credentials are not configured (DIALER_FSAPI_CREDENTIALS)")
    if not fsapi_authorized(request.headers.get("authorization", ""), credentials):
        return fsapi_text(401, "unauthorized", {"WWW-Authenticate": 'Basic realm="fsapi"'})
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return fsapi_text(413, too_large)
    return None


def fsapi_router(deps: CdrDeps, credentials: str) -> APIRouter:
    """The ``/fsapi`` routes; ``credentials`` (``user:pass``) empty: every post is refused
    (503) until they are configured."""
    router = APIRouter(prefix=FSAPI_PREFIX)

    @router.post("/cdr")
    async def post_cdr(request: Request) -> Response:
        refused = fsapi_refusal(
            request, credentials, MAX_CDR_BYTES, f"CDR over {MAX_CDR_BYTES} bytes"
        )
        if refused is not None:
            return refused
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        try:
            await run_in_threadpool(receive_cdr, deps, content_type, body)
        except CdrError as exc:
            log.warning("CDR refused (%s): %s", request.query_params.get("uuid", "?"), exc)
            return fsapi_text(400, str(exc))
        return fsapi_text(200, "OK")

    return router
