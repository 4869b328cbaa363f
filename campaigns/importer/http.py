"""The manager's ``/v1`` routes for a campaign's lead lists: upload a CSV/XLSX file (imported
on the ``imports`` queue by the code of ``dialer leads import``), follow its import, fetch its
rejected rows, list, delete or archive lists (as ``dialer leads lists|delete-list``).

An upload is refused before its body is read when its ``Content-Length`` is over the limit,
and cut off with the same 413 once more bytes came than the limit allows (a body sent
without a length); the file part is copied to the upload directory in chunks (see
`campaigns.importer.uploads`). A file the import would refuse is a 422 naming the problem,
with nothing written or queued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from campaigns.http import RowId
from campaigns.importer.ports import LeadStore
from campaigns.importer.service import ImportError_, ImportOptions
from campaigns.importer.uploads import (
    UploadInFlight,
    UploadTooLarge,
    accept_upload,
    rejects_path,
    remove_upload,
    stage_upload,
    too_large_detail,
)
from campaigns.lead_lists import (
    LeadListError,
    LeadListRow,
    archive_list,
    delete_list,
    find_list,
    lead_list_row,
    list_lead_lists,
)
from campaigns.models import LeadList
from campaigns.service import CampaignError, get_campaign, known_region
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import ApiKey, Role
from dialer.http_problems import Problem, problem_response

__all__ = ["LeadListDeps", "lead_lists_router", "task_id_of"]

# room for the multipart framing and the form's other fields around the file
_FRAMING_BYTES = 64 << 10
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LeadListDeps:
    """The database and the import's store on it; where uploads are kept and how big one may
    be; ``enqueue(path, options, task_id)`` sends an import to the ``imports`` queue and
    ``failure(task_id)`` says why that import failed (None: it did not, or not known)."""

    sessions: sessionmaker[Session]
    store: LeadStore
    upload_dir: Path
    max_bytes: int
    enqueue: Callable[[Path, ImportOptions, str], str]
    failure: Callable[[str], str | None]


def task_id_of(lead_list_id: int, sha256: str) -> str:
    """The import task of a list's upload: found again from the list alone."""
    return f"lead-list-{lead_list_id}-{sha256[:16]}"


class _TooLarge(StarletteHTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large_detail(max_bytes))


def _limited_route(max_bytes: int) -> type[APIRoute]:
    """A route class whose request bodies stop at ``max_bytes`` (plus the framing): 413."""
    limit = max_bytes + _FRAMING_BYTES

    class LimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                length = request.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    return _too_large(max_bytes)
                return await handler(Request(request.scope, _counting(request.receive, limit)))

            return limited

    return LimitedRoute


def _too_large(max_bytes: int) -> JSONResponse:
    detail = too_large_detail(max_bytes)
    return problem_response(413, detail, [{"field": "body.file", "detail": detail}])


def _counting(
    receive: Callable[[], Awaitable[Message]], limit: int
) -> Callable[[], Awaitable[Message]]:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _TooLarge(limit - _FRAMING_BYTES)
        return message

    return counted


class LeadListUpload(BaseModel):
    """The form of an upload: the file, and the options of ``dialer leads import``."""

    model_config = ConfigDict(extra="forbid")

    file: UploadFile
    region: str | None = Field(default=None, min_length=2, max_length=2)
    phone_column: str | None = Field(default=None, min_length=1, max_length=200)
    sheet: str | None = Field(default=None, min_length=1, max_length=200)
    force: bool = False
    dedupe_across_campaigns: bool = False

    @field_validator("region")
    @classmethod
    def _region(cls, region: str | None) -> str | None:
        return None if region is None else known_region(region)


class LeadListOut(BaseModel):
    """A lead list and its import: ``status`` ``importing`` (``rows`` so far), ``complete``,
    ``archived``, or ``failed`` (``failure`` says why; uploading the file again resumes
    it); ``rows`` = accepted + duplicate + dnc + invalid; ``dialled``: its leads dialled."""

    id: int
    campaign: str
    file_name: str
    status: str
    imported_at: datetime
    finished_at: datetime | None
    rows: int
    accepted: int
    duplicate: int
    dnc: int
    invalid: int
    dialled: int
    failure: str | None = None


class UploadOut(BaseModel):
    """``already_imported``: the same content went into the campaign before (that list is
    ``lead_list``; nothing queued); otherwise ``task_id`` is the queued import."""

    lead_list: LeadListOut
    already_imported: bool
    task_id: str | None


class RemovedOut(BaseModel):
    lead_list_id: int
    archived: bool
    leads_deleted: int


def _field_of(message: str, form: LeadListUpload) -> str:
    if form.sheet is not None and "sheet" in message:
        return "body.sheet"
    if form.phone_column is not None and "column" in message:
        return "body.phone_column"
    return "body.file"


def lead_lists_router(deps: LeadListDeps, auth: KeyAuth) -> APIRouter:
    router = APIRouter(prefix="/campaigns/{name}/lead-lists", tags=["lead lists"])
    upload_router = APIRouter(
        prefix="/campaigns/{name}/lead-lists", tags=["lead lists"],
        route_class=_limited_route(deps.max_bytes),
    )  # fmt: skip
    manager = auth.require(Role.MANAGER)

    def _out(row: LeadListRow) -> LeadListOut:
        failure = None
        if row.status == "importing":
            failure = deps.failure(task_id_of(row.lead_list_id, row.sha256))
        return LeadListOut(
            id=row.lead_list_id, campaign=row.campaign, file_name=row.file_name,
            status=FAILED if failure else row.status, imported_at=row.imported_at,
            finished_at=row.finished_at, rows=row.rows, accepted=row.accepted,
            duplicate=row.duplicate, dnc=row.dnc, invalid=row.invalid, dialled=row.dialled,
            failure=failure,
        )  # fmt: skip

    def _campaign_id(session: Session, name: str) -> int:
        try:
            return get_campaign(session, name).id
        except CampaignError as exc:
            raise Problem(404, str(exc)) from None

    def _find(session: Session, name: str, lead_list_id: int) -> LeadList:
        _campaign_id(session, name)
        try:
            return find_list(session, str(lead_list_id), name)
        except LeadListError:
            raise Problem(404, f"campaign {name} has no lead list #{lead_list_id}") from None

    @upload_router.post("", status_code=202, response_model=UploadOut)
    def upload(
        name: str,
        form: Annotated[LeadListUpload, Form()],
        response: Response,
        key: ApiKey = Depends(manager),
    ) -> UploadOut:
        """Upload a CSV (any delimiter; UTF-8 or GBK) or XLSX/XLS file of leads: checked at
        once, then imported on the ``imports`` queue (202); 200 when the same content was
        imported into the campaign before (``force``: import it again as a new list)."""
        file_name = Path(form.file.filename or "").name.strip()
        if not file_name:
            raise Problem(422, "the file part needs a file name",
                          [{"field": "body.file", "detail": "no file name"}])  # fmt: skip
        with deps.sessions() as session:
            _campaign_id(session, name)
        options = ImportOptions(
            campaign=name, region=form.region, phone_column=form.phone_column,
            sheet=form.sheet, force=form.force,
            dedupe_across_campaigns=form.dedupe_across_campaigns,
        )  # fmt: skip
        try:
            staged = stage_upload(form.file.file, deps.upload_dir, deps.max_bytes)
            accepted = accept_upload(
                deps.store, staged, file_name, options, deps.upload_dir,
                lambda list_id: deps.failure(task_id_of(list_id, staged.sha256)) is None,
            )  # fmt: skip
        except UploadTooLarge as exc:
            raise Problem(413, str(exc), [{"field": "body.file", "detail": str(exc)}]) from None
        except ImportError_ as exc:
            field = _field_of(str(exc), form)
            raise Problem(422, str(exc), [{"field": field, "detail": str(exc)}]) from None
        except UploadInFlight as exc:
            raise Problem(409, str(exc)) from None
        list_id = accepted.progress.lead_list_id
        task_id = None
        if accepted.queued:
            # the worker opens the list the check opened (the newest of this content): never
            # a second one, even when the task is delivered again after it finished
            queued = ImportOptions(
                campaign=name, region=form.region, phone_column=form.phone_column,
                sheet=form.sheet, rejects_path=accepted.rejects_path,
                dedupe_across_campaigns=form.dedupe_across_campaigns,
            )  # fmt: skip
            try:
                task_id = deps.enqueue(accepted.path, queued, task_id_of(list_id, staged.sha256))
            except Exception as exc:  # the broker's errors are the transport's own
                # without its file the list is not in flight: the same upload queues it again
                accepted.path.unlink(missing_ok=True)
                raise Problem(503, f"the import could not be queued ({type(exc).__name__}: "
                              f"{exc}); upload the file again") from None  # fmt: skip
        else:
            response.status_code = 200
        with deps.sessions() as session:
            row = lead_list_row(session, _find(session, name, list_id))
        return UploadOut(lead_list=_out(row), already_imported=not accepted.queued,
                         task_id=task_id)  # fmt: skip

    @router.get("", response_model=list[LeadListOut])
    def lists(name: str, key: ApiKey = Depends(manager)) -> list[LeadListOut]:
        """The campaign's lead lists, oldest first (``dialer leads lists --campaign``)."""
        with deps.sessions() as session:
            _campaign_id(session, name)
            return [_out(row) for row in list_lead_lists(session, name)]

    @router.get("/{lead_list_id}", response_model=LeadListOut)
    def progress(name: str, lead_list_id: RowId, key: ApiKey = Depends(manager)) -> LeadListOut:
        """One list: its import's progress (rows committed so far, by outcome) or outcome."""
        with deps.sessions() as session:
            return _out(lead_list_row(session, _find(session, name, lead_list_id)))

    @router.get(
        "/{lead_list_id}/rejects",
        response_class=FileResponse,
        responses={200: {"content": {"text/csv": {}}, "description": "the rejected rows"}},
    )
    def rejects(name: str, lead_list_id: RowId, key: ApiKey = Depends(manager)) -> FileResponse:
        """The rejected rows of an uploaded list's import as CSV (row, outcome, reason, the
        row's cells), streamed; written as the import goes."""
        with deps.sessions() as session:
            _find(session, name, lead_list_id)
        path = rejects_path(deps.upload_dir, lead_list_id)
        if not path.is_file():
            raise Problem(404, f"lead list #{lead_list_id} has no rejects file (not uploaded "
                          "through the API, or its import has not started)")  # fmt: skip
        return FileResponse(path, media_type="text/csv",
                            filename=f"lead-list-{lead_list_id}-rejects.csv")  # fmt: skip

    @router.delete("/{lead_list_id}", response_model=RemovedOut)
    def remove(
        name: str, lead_list_id: RowId, archive: bool = False, key: ApiKey = Depends(manager)
    ) -> RemovedOut:
        """Delete the list and its leads when none was dialled (409 otherwise), or with
        ``archive`` keep it for the records: its leads are never claimed again."""
        with deps.sessions.begin() as session:
            found = _find(session, name, lead_list_id)
            if archive:
                archive_list(session, found)
                return RemovedOut(lead_list_id=lead_list_id, archived=True, leads_deleted=0)
            try:
                removed = delete_list(session, found)
            except LeadListError as exc:
                raise Problem(409, str(exc)) from None
        remove_upload(deps.upload_dir, lead_list_id)
        return RemovedOut(lead_list_id=lead_list_id, archived=False, leads_deleted=removed)

    outer = APIRouter()
    outer.include_router(upload_router)
    outer.include_router(router)
    return outer
