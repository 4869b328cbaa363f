"""``POST /fsapi/xml_curl``: mod_xml_curl's fetches, thin over `dialer.xmlcurl.service`.

The switch authenticates as it does for CDRs: HTTP basic auth with
``DIALER_FSAPI_CREDENTIALS`` (mod_xml_curl's ``gateway-credentials``, ``auth-scheme`` basic).
The form is ``application/x-www-form-urlencoded`` (transcript w1); ``?node=NAME`` in the
binding's URL names the node, whose trunks the external profile gets. Anything but a 200
makes mod_xml_curl log the error and FreeSWITCH use its own files.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from dialer.cdr.http import FSAPI_PREFIX, fsapi_refusal
from dialer.xmlcurl.service import XmlCurlDeps, answer

__all__ = ["MAX_FETCH_BYTES", "xml_curl_router"]

MAX_FETCH_BYTES = 1 << 20  # a dialplan fetch carries every channel variable (w1: 7.4 KB)


def xml_curl_router(deps: XmlCurlDeps, credentials: str) -> APIRouter:
    """``credentials`` (``user:pass``) empty: every fetch is refused (503)."""
    router = APIRouter(prefix=FSAPI_PREFIX)

    @router.post("/xml_curl")
    async def post_xml_curl(request: Request) -> Response:
        too_large = f"fetch over {MAX_FETCH_BYTES} bytes"
        refused = fsapi_refusal(request, credentials, MAX_FETCH_BYTES, too_large)
        if refused is not None:
            return refused
        body = await request.body()
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        node = request.query_params.get("node")
        text = await run_in_threadpool(answer, deps, fields, node)
        return Response(text, media_type="text/xml")

    return router
