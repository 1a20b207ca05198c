"""Every answer that is not a success is RFC 9457 problem details (``application/problem+json``).

``type`` is ``/problems/<slug>``, with ``title``, ``status`` and ``detail``; what FastAPI or
Starlette would answer on their own (404, 405, a validation error, an unexpected exception)
is turned into the same shape here, and a lost store is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.hq.api.logs import log
from sync.hq.ingest import HttpProblem
from sync.hq.logsafe import db_error, frames

PROBLEM_JSON = "application/problem+json"

_HTTP_SLUGS = {
    400: "malformed-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


# Seconds a 503 asks the device to wait before it retries.
RETRY_AFTER = {"busy": 5, "store-unavailable": 30}


def problem_response(problem: HttpProblem, **extensions: object) -> JSONResponse:
    """The RFC 9457 response for a problem, with any extension members given."""
    headers: dict[str, str] = {}
    # A body refused for its size, or too slow, may still be on its way: the connection cannot
    # be reused, and closing it frees what the client holds of HQ.
    if problem.status in (408, 413) or getattr(problem, "body_unread", False):
        headers["Connection"] = "close"
    if problem.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER.get(problem.slug, 30))
    return JSONResponse(
        {**problem.as_json(), **extensions},
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers or None,
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
    # The error's class and SQLSTATE, not its text: a driver's message may quote the row.
    log.error("store unavailable on %s %s: %s", request.method, request.url.path, db_error(exc))
    return problem_response(
        HttpProblem("store-unavailable", "HQ's store is unavailable; retry later.", 503)
    )


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    """Log a bug: where it happened (frames and classes), never the exception's text.

    The text of an exception may quote what it failed on (a driver's ``DETAIL`` quotes the
    row: an applicant's name and NIK), and uvicorn would print it in full: HQ answers every
    exception itself (:class:`AnswerEveryException`), so uvicorn never sees one.
    """
    described = db_error(exc) if isinstance(exc, sa.exc.DBAPIError) else type(exc).__name__
    log.error("unexpected error on %s %s: %s\n%s", method, path, described, frames(exc))


def internal_error() -> JSONResponse:
    """The answer to a bug: a 500 problem that says nothing of it."""
    return problem_response(
        HttpProblem("internal-error", "HQ failed on this request; it has been logged.", 500)
    )


class AnswerEveryException:
    """ASGI middleware: an exception no handler took becomes a logged 500 problem, not re-raised.

    Starlette's own last handler answers and then re-raises to the server, and uvicorn logs
    the traceback with the exception's message ("Exception in ASGI application"): a database
    error's ``DETAIL`` with the failing row's values went to the log that way.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the app; answer (or, once an answer has started, end) what it raises."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            log_unexpected(scope.get("method", "-"), scope.get("path", "-"), exc)
            if not started:
                await internal_error()(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer refusals, HTTP errors, bad requests, a lost store and bugs as problem details."""
    app.add_exception_handler(HttpProblem, _problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(sa.exc.OperationalError, _store_down)  # type: ignore[arg-type]
    # Outermost of the app's own middleware: inside it only Starlette's ServerErrorMiddleware,
    # which then never sees an exception (and never hands one to uvicorn).
    app.add_middleware(AnswerEveryException)
