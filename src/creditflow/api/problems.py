"""Every API error as RFC 9457 `application/problem+json`, and nothing more than it should say.

Why: clients (the officer console, the CLI, outside checks) get one error shape for every
status, and the handlers here are the single place that decides what an error may reveal:
validation errors list what was wrong but never echo the submitted values (they may be an
SSN or a token), and unhandled exceptions return an opaque 500 with an error id while the
stack trace goes to the (redacted) log only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger("creditflow.api.problems")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build a problem+json response; `extra` members are added to the body (e.g. `errors`).

    `type` defaults to "about:blank" (RFC 9457: the title is then the status phrase or a
    short summary); pass `type=` in `extra` for a specific problem type URI.
    """
    body: dict[str, Any] = {"type": extra.pop("type", "about:blank"), "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


class ProblemError(Exception):
    """Raise anywhere in a request (handler or dependency) to answer with a problem."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.title = title or _phrase(status)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(f"{status} {self.title}: {detail or ''}")

    def response(self) -> JSONResponse:
        return problem(self.status, self.title, self.detail, headers=self.headers, **self.extra)


def _safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without `input`/`ctx`/`url`: location, message and type only."""
    out: list[dict[str, Any]] = []
    for err in errors:
        out.append(
            {
                "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


async def _problem_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return exc.response()


async def _http_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    extra: dict[str, Any] = {}
    if exc.detail is not None and not isinstance(exc.detail, str):
        extra["errors"] = exc.detail
    title = _phrase(exc.status_code)
    if detail == title:
        detail = None
    return problem(exc.status_code, title, detail, headers=exc.headers, **extra)


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem(
        422,
        "Unprocessable Content",
        "The request is not valid; see errors.",
        errors=_safe_errors(exc.errors()),
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex
    log.error(
        "unhandled error %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return problem(
        500,
        "Internal Server Error",
        "An unexpected error occurred. Quote the error id when reporting it.",
        error_id=error_id,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers; call once from the app factory."""
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
