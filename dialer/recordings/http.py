"""Recordings over HTTP, thin over `dialer.recordings.service`:

- ``POST /fsapi/upload_audio?uuid=<uuid>``: the switch's upload (multipart part ``files``,
  capture y), HTTP basic auth with ``DIALER_FSAPI_CREDENTIALS`` as for CDRs;
- ``GET /v1/recordings/{call_uuid}`` (managers): the recording's format, size, time and a
  download URL that expires;
- ``GET /files/recordings/{call_uuid}?expires=&sig=``: the file, for whoever holds a URL that
  has not expired (no API key: the signature is the permission).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.cdr.http import FSAPI_PREFIX, fsapi_refusal, fsapi_text
from dialer.http_problems import Problem
from dialer.recordings.service import (
    DOWNLOAD_PREFIX,
    RecordingDeps,
    RecordingError,
    check_uuid,
    download_url,
    receive_upload,
    signature_ok,
)

__all__ = ["downloads_router", "recordings_router", "upload_router"]

_MEDIA = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def upload_router(deps: RecordingDeps, credentials: str) -> APIRouter:
    router = APIRouter(prefix=FSAPI_PREFIX)

    @router.post("/upload_audio")
    async def upload_audio(request: Request, uuid: str = "") -> Response:
        # the multipart form around the file may add up to 64 KiB
        too_large = f"recording over {deps.max_bytes} bytes"
        refused = fsapi_refusal(request, credentials, deps.max_bytes + 64 * 1024, too_large)
        if refused is not None:
            return refused
        form = await request.form()
        part = form.get("files")
        if not isinstance(part, UploadFile):
            return fsapi_text(400, "no multipart part named files")
        data = await part.read()
        try:
            await run_in_threadpool(receive_upload, deps, uuid, part.filename or "", data)
        except RecordingError as exc:
            return fsapi_text(400, str(exc))
        return fsapi_text(200, "OK")

    return router


class RecordingOut(BaseModel):
    call_uuid: str
    format: str
    size: int
    stored_at: datetime
    url: str
    url_expires_at: datetime


def recordings_router(auth: KeyAuth, deps: RecordingDeps) -> APIRouter:
    router = APIRouter(tags=["recordings"])
    manager = auth.require(Role.MANAGER)

    @router.get("/recordings/{call_uuid}", response_model=RecordingOut)
    def get_recording(
        call_uuid: str = Path(max_length=36), key: ApiKey = Depends(manager)
    ) -> RecordingOut:
        """A call's recording and a URL that serves it until ``url_expires_at``."""
        found = deps.storage.get(call_uuid)
        if found is None:
            raise Problem(404, f"no recording of call {call_uuid}")
        try:
            url, expires = download_url(deps, call_uuid)
        except RecordingError as exc:
            raise Problem(503, str(exc)) from None
        return RecordingOut(
            call_uuid=call_uuid, format=found.file_format, size=found.size,
            stored_at=found.stored_at, url=url, url_expires_at=expires,
        )  # fmt: skip

    return router


def downloads_router(deps: RecordingDeps) -> APIRouter:
    router = APIRouter(prefix=DOWNLOAD_PREFIX)

    @router.get("/{call_uuid}")
    def download(
        call_uuid: str = Path(max_length=36),
        expires: int = Query(0),
        sig: str = Query("", max_length=128),
    ) -> Response:
        try:
            check_uuid(call_uuid)
        except RecordingError:
            return fsapi_text(404, "no such recording")
        if not signature_ok(deps, call_uuid, expires, sig):
            return fsapi_text(403, "this recording URL is not valid or has expired")
        found = deps.storage.get(call_uuid)
        data = deps.storage.read(call_uuid) if found else None
        if found is None or data is None:
            return fsapi_text(404, "no such recording")
        return Response(data, media_type=_MEDIA.get(found.file_format, "application/octet-stream"))

    return router
