"""Errors of the HTTP API as RFC 9457 problem documents (``application/problem+json``).

Every refusal names its problem: ``title`` (the HTTP reason), ``detail`` (what was wrong, in
words) and, for bad input, ``errors``: one ``{"field": ..., "detail": ...}`` per field, the
field as a dotted path from the request part (``body.callee``, ``query.limit``,
``header.idempotency-key``). Handlers raise `Problem`; `install_problem_handlers` also turns
FastAPI's own validation and HTTP errors into the same shape.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "FieldError",
    "Problem",
    "ProblemDocument",
    "install_problem_handlers",
    "problem_response",
    "refuse_nul_characters",
]

PROBLEM_JSON = "application/problem+json"
FieldError = Mapping[str, str]


class FieldProblem(BaseModel):
    field: str
    detail: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document as the API sends it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}
# Every 4xx of a /v1 route is a problem document (this also replaces FastAPI's own 422 shape
# in the OpenAPI document, which the handlers below never send); so is a 503, when a switch
# or a backend the request needs cannot be reached.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ProblemDocument,
        "description": "refused: a problem document naming what was wrong",
        "content": _PROBLEM_CONTENT,
    },
    503: {
        "model": ProblemDocument,
        "description": "a switch or backend the request needs is unreachable; nothing changed",
        "content": _PROBLEM_CONTENT,
    },
}


class Problem(Exception):
    """A refusal: ``status`` (4xx/5xx), ``detail`` in words, ``errors`` per field."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        {"field": _field(e.get("loc", ())), "detail": str(e.get("msg", ""))} for e in exc.errors()
    ]


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers)


async def _on_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    named = ", ".join(e["field"] for e in errors)
    return problem_response(422, f"the request is not valid: {named}", errors)


async def _on_http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(StarletteHTTPException, _on_http)


_NUL = "\x00"
_NUL_DETAIL = "holds a NUL character (U+0000), which no value may hold"


def _nul_fields(value: Any, path: str) -> list[str]:
    """The dotted paths of the strings (keys included) in a JSON value that hold a NUL."""
    if isinstance(value, str):
        return [path] if _NUL in value else []
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if _NUL in k]
        for k, v in value.items():
            found += _nul_fields(v, f"{path}.{k}")
        return found
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _nul_fields(v, f"{path}.{i}")]
    return []


async def refuse_nul_characters(request: HTTPConnection) -> None:
    """A router dependency: a NUL in the path, the query or a JSON body is refused (422
    naming the field) before any handler runs. No stored text may hold one (PostgreSQL's
    text types cannot), and none of ours needs one; uploaded files are not looked into.
    A WebSocket (no body) has its path and query checked."""
    fields = [f"path.{k}" for k, v in request.path_params.items() if _NUL in str(v)]
    fields += [f"query.{k}" for k, v in request.query_params.multi_items() if _NUL in k + v]
    json_body = request.headers.get("content-type", "").startswith("application/json")
    if isinstance(request, Request) and json_body:
        body = await request.body()
        if b"\\u0000" in body or b"\x00" in body:
            with contextlib.suppress(ValueError):  # not JSON: its own validation names it
                fields += _nul_fields(json.loads(body), "body")
    if fields:
        errors = [{"field": f, "detail": _NUL_DETAIL} for f in fields]
        raise Problem(422, f"{', '.join(fields)} {_NUL_DETAIL}", errors)
