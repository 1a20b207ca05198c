"""Every answer that is not a success is RFC 9457 problem details (``application/problem+json``).

``type`` is ``/problems/<slug>``, with ``title``, ``status`` and ``detail``; what FastAPI or
Starlette would answer on their own (404, 405, a validation error, an unexpected exception)
is turned into the same shape here, and a lost store is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.hq.api.logs import log
from sync.hq.ingest import HttpProblem

PROBLEM_JSON = "application/problem+json"

_HTTP_SLUGS = {
    400: "malformed-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


def problem_response(problem: HttpProblem, **extensions: object) -> JSONResponse:
    """The RFC 9457 response for a problem, with any extension members given."""
    # A body refused for its size may still be on its way: the connection cannot be reused.
    headers = {"Connection": "close"} if problem.status == 413 else None
    return JSONResponse(
        {**problem.as_json(), **extensions},
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def _problem(_request: Request, exc: HttpProblem) -> JSONResponse:
    return problem_response(exc)


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    slug = _HTTP_SLUGS.get(exc.status_code, f"http-{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    response = problem_response(HttpProblem(slug, detail, exc.status_code))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    where = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()[:5]
    )
    return problem_response(HttpProblem("invalid-request", where or "Invalid request."))


async def _store_down(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
    log.error("store unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
    response = problem_response(
        HttpProblem("store-unavailable", "HQ's store is unavailable; retry later.", 503)
    )
    response.headers["Retry-After"] = "30"
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        HttpProblem("internal-error", "HQ failed on this request; it has been logged.", 500)
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer refusals, HTTP errors, bad requests, a lost store and bugs as problem details."""
    app.add_exception_handler(HttpProblem, _problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(sa.exc.OperationalError, _store_down)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
