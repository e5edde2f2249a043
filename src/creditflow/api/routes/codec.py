"""Temporal codec server: lets the Temporal UI show decrypted payloads to signed-in staff only.

The UI (configured with `--ui-codec-endpoint http://<api>/codec`) POSTs
`{"payloads": [{"metadata": {k: base64}, "data": base64}]}` to `/codec/decode` (and
`/codec/encode` when staff send a signal from the UI) with an `X-Namespace` header; we answer
in the same shape. Both endpoints require an officer, senior officer or admin: a bearer token
when the UI is set to pass one, else the `creditflow_token` cookie the officer console sets
(SameSite=Strict, HttpOnly; the UI on 127.0.0.1:8233 and the API on 127.0.0.1:8000 are the
same site, so the browser sends it with "include cross-origin credentials"). CORS answers the
configured Temporal UI origin only, and only on /codec.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from creditflow.api.deps import unauthorized, bearer_token, require_roles
from creditflow.api.problems import ProblemError
from creditflow.config import Settings, get_settings
from creditflow.security.codec import CodecError, EncryptionCodec, load_codec
from creditflow.security.tokens import STAFF_ROLES, InvalidToken, Principal, TokenService

SESSION_COOKIE = "creditflow_token"
CODEC_PREFIX = "/codec"
# Temporal caps a payload at 2 MB; the UI sends a handful per request.
MAX_BODY_BYTES = 16 * 1024 * 1024

log = logging.getLogger("creditflow.api.codec")

router = APIRouter(prefix=CODEC_PREFIX, tags=["codec"])


def get_codec(request: Request) -> EncryptionCodec:
    """`app.state.codec` if the app factory set one, else built once from the app's settings."""
    codec = getattr(request.app.state, "codec", None)
    if codec is None:
        settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
        codec = load_codec(settings)
        request.app.state.codec = codec
    return codec


def get_codec_principal(request: Request) -> Principal:
    """Bearer token if sent, else the console's session cookie; 401 problem otherwise.

    The cookie is accepted here only (not on the /v1 API), so it cannot be used for
    cross-site request forgery against state-changing endpoints.
    """
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise unauthorized("authentication required", error=None)
    tokens: TokenService = request.app.state.tokens
    try:
        return tokens.verify(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


CodecPrincipalDep = Annotated[Principal, Depends(get_codec_principal)]
_require_staff = require_roles(*sorted(STAFF_ROLES))


async def _codec_staff(principal: CodecPrincipalDep) -> Principal:
    return await _require_staff(principal)


CodecStaffDep = Annotated[Principal, Depends(_codec_staff)]
CodecDep = Annotated[EncryptionCodec, Depends(get_codec)]


async def _read_payloads(request: Request) -> list[Payload]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ProblemError(413, "Content Too Large", f"codec requests are limited to {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ProblemError(413, "Content Too Large", f"codec requests are limited to {MAX_BODY_BYTES} bytes")
    try:
        msg = json_format.Parse(body or b"{}", Payloads())
    except (json_format.ParseError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProblemError(
            400, "Bad Request", 'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}'
        ) from exc
    return list(msg.payloads)


def _payloads_json(payloads: list[Payload]) -> JSONResponse:
    out: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    out.setdefault("payloads", [])
    return JSONResponse(out)


@router.post("/encode", summary="Encrypt payloads (Temporal codec server)")
async def encode(request: Request, principal: CodecStaffDep, codec: CodecDep) -> JSONResponse:
    payloads = await _read_payloads(request)
    log.info(
        "codec encode by %s (%s), namespace %s, %d payloads",
        principal.sub, principal.role, request.headers.get("x-namespace", "-"), len(payloads),
    )
    return _payloads_json(await codec.encode(payloads))


@router.post("/decode", summary="Decrypt payloads for display (Temporal codec server)")
async def decode(request: Request, principal: CodecStaffDep, codec: CodecDep) -> JSONResponse:
    payloads = await _read_payloads(request)
    # Every decryption is an access to applicant data: leave an audit line (no content).
    log.info(
        "codec decode by %s (%s), namespace %s, %d payloads",
        principal.sub, principal.role, request.headers.get("x-namespace", "-"), len(payloads),
    )
    try:
        decoded = await codec.decode(payloads)
    except CodecError as exc:
        raise ProblemError(422, "Cannot decrypt payload", str(exc)) from None
    return _payloads_json(decoded)


class _PathScopedCORS:
    """CORSMiddleware applied to one path prefix only; every other route sends no CORS headers."""

    def __init__(self, app: ASGIApp, prefix: str, **cors: Any) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(app, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def ui_origin(settings: Settings) -> str:
    """`scheme://host[:port]` of the Temporal UI (a browser Origin never has a path)."""
    parts = urlsplit(settings.temporal_ui_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"temporal_ui_url {settings.temporal_ui_url!r} is not an absolute URL")
    return f"{parts.scheme}://{parts.netloc}"


def codec_cors(app: FastAPI, settings: Settings) -> None:
    """Allow the Temporal UI origin (and only it) to call /codec/* with credentials."""
    app.add_middleware(
        _PathScopedCORS,
        prefix=CODEC_PREFIX,
        allow_origins=[ui_origin(settings)],
        allow_credentials=True,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        max_age=600,
    )
