"""The officer console: one static page (HTML + JS + CSS, no build step) and its session cookie.

Why static: the console is a thin client of the public review API (`/v1/review/...`); it holds
no logic the API does not enforce, so serving fixed files is enough and keeps the page
reviewable. The page is sent with a strict Content-Security-Policy (scripts and styles from
this origin only, no inline code, no framing), so an injected string in an application or a
document can never run as code even if an escaping mistake slipped in.

`POST /console/session` exists for the Temporal UI: after sign-in the page hands its bearer
token to the API, which verifies it and sets the `creditflow_token` cookie (HttpOnly,
SameSite=Strict, Path=/codec). The browser then sends it with the UI's codec requests only,
never with /v1 calls, so the cookie cannot be used for cross-site request forgery against
state-changing endpoints. The body must be JSON, which a cross-site HTML form cannot send
without a CORS preflight that we never grant.
"""

from __future__ import annotations

from pathlib import Path
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from creditflow.api.deps import unauthorized
from creditflow.api.problems import ProblemError
from creditflow.security.tokens import STAFF_ROLES, InvalidToken, TokenService

router = APIRouter(tags=["console"], include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "creditflow_token"
COOKIE_PATH = "/codec"

# Files the page may load; anything else is 404 (no directory listing, no path tricks).
STATIC_FILES: dict[str, str] = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # The page shows applicant data: never keep it in shared caches or the back/forward cache on disk.
    "Cache-Control": "no-store",
}


class SessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=8192)


class SessionInfo(BaseModel):
    """Who the token belongs to, so the page can greet the officer and pick the queues."""

    sub: str
    role: str
    queues: list[str]


QUEUES_FOR_ROLE: dict[str, list[str]] = {
    "officer": ["officer"],
    "senior_officer": ["officer", "senior", "committee"],
    "admin": ["officer", "senior", "committee"],
}


@router.get("/console")
async def console_page() -> FileResponse:
    """The single page of the console (inbox, application view and actions are client-side views)."""
    return FileResponse(STATIC_DIR / "console.html", media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


@router.get("/console/static/{name}")
async def console_static(name: str) -> FileResponse:
    media = STATIC_FILES.get(name)
    if media is None:
        raise ProblemError(404, "Not found", "No such console file.")
    return FileResponse(STATIC_DIR / name, media_type=media,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


def _require_json(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ProblemError(415, "Unsupported Media Type", "Send the token as application/json.")


@router.post("/console/session")
async def open_session(body: SessionBody, request: Request, response: Response) -> SessionInfo:
    """Verify a staff token and set the codec cookie; 401 for a bad token, 403 for a non-staff role."""
    _require_json(request)
    tokens: TokenService = request.app.state.tokens
    try:
        principal = tokens.verify(body.token.strip())
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    if principal.role not in STAFF_ROLES:
        raise ProblemError(403, "Forbidden", "The officer console is for credit officers; this token "
                                             f"belongs to the role {principal.role!r}.")
    response.set_cookie(
        SESSION_COOKIE, body.token.strip(), path=COOKIE_PATH, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return SessionInfo(sub=principal.sub, role=principal.role, queues=QUEUES_FOR_ROLE[principal.role])


@router.delete("/console/session", status_code=204)
async def close_session(request: Request) -> Response:
    """Clear the codec cookie (sign-out). Needs no credential: forgetting a cookie is always allowed."""
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response

