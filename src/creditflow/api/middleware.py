"""Pure ASGI middleware that hardens the HTTP services: body-size limits enforced while the
body streams in, per-subject rate limits on submissions, security headers, a request id, one
PII-free access-log line and Prometheus metrics per request.

Why pure ASGI (not BaseHTTPMiddleware): a size limit is only a limit if it is enforced
before the body is read. BaseHTTPMiddleware hands the handler a Request whose body the
framework buffers; here we see each `http.request` message as it arrives, refuse on
`Content-Length` before reading a byte, and stop a chunked upload as soon as it crosses the
limit, so a client can never make us hold more than the limit in memory.

Layers, outermost first (`install_hardening` wires them):
  RequestContextMiddleware  request id, security headers, access log, metrics; wraps even
                            Starlette's ServerErrorMiddleware so 500s get headers and counts
  BodyLimitMiddleware       413 problem+json on Content-Length or while streaming
  RateLimitMiddleware       429 problem+json with Retry-After, per verified JWT subject
  ... FastAPI (exception handlers, routes)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow.api.problems import PROBLEM_JSON, problem
from creditflow.api.ratelimit import RateLimiter, limited_route, retry_after_header
from creditflow.config import Settings
from creditflow.logs import get_logger
from creditflow.metrics import UNMATCHED_ROUTE, ApiMetrics, NlpMetrics, ServiceMetrics

KIB = 1024
MIB = 1024 * KIB
JSON_BODY_LIMIT = 1 * MIB
MULTIPART_OVERHEAD = 64 * KIB
# The codec server receives Temporal payloads (2 MB each, base64 in JSON); it enforces its
# own 16 MiB cap inside the route, and we must not be stricter than that here.
CODEC_BODY_LIMIT = 16 * MIB
UPLOAD_PATH = re.compile(r"^/v1/applications/[^/]+/documents/?$")
CODEC_PATH = re.compile(r"^/codec(/|$)")
REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")
_DECISION_PATH = re.compile(r"^/v1/review/tasks/[^/]+/decision/?$")
_DECISION_CAPTURE_LIMIT = 64 * KIB
_PRINCIPAL_KEY = "creditflow.principal"

access_log = get_logger("creditflow.api.access")


# ---- helpers ------------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _state(scope: Scope) -> Any:
    app = scope.get("app")
    return getattr(app, "state", None)


def verified_principal(scope: Scope) -> Any | None:
    """The caller's verified Principal from the bearer token, or None; cached in the scope.

    Verification (not a bare decode) matters: rate-limit buckets and log hashes keyed on an
    unverified `sub` would let anyone spend a victim's budget with a forged token.
    """
    store = scope.setdefault("state", {})
    if _PRINCIPAL_KEY in store:
        return store[_PRINCIPAL_KEY]
    principal = None
    raw = _header(scope, b"authorization")
    tokens = getattr(_state(scope), "tokens", None)
    if raw is not None and tokens is not None:
        scheme, _, token = raw.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                principal = tokens.verify(token.strip())
            except Exception:
                principal = None
    store[_PRINCIPAL_KEY] = principal
    return principal


_HASH_KEY = os.environ.get("CREDITFLOW_LOG_HASH_KEY", "").encode() or secrets.token_bytes(32)


def hash_subject(sub: str) -> str:
    """A keyed, truncated hash of a subject id for logs: stable within a process (or across
    processes sharing CREDITFLOW_LOG_HASH_KEY), not reversible by hashing a list of ids."""
    return hmac.new(_HASH_KEY, sub.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def route_template(scope: Scope) -> str:
    """The matched route's path template, or `<unmatched>`; never the raw path.

    After routing Starlette leaves the route in the scope. Requests refused before routing
    (413 on Content-Length, 429) are matched against the OpenAPI path templates instead.
    """
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    patterns = _template_patterns(app)
    request_path = scope.get("path", "")
    for pattern, template in patterns:
        if pattern.match(request_path):
            return template
    return UNMATCHED_ROUTE


def _template_patterns(app: Any) -> list[tuple[re.Pattern[str], str]]:
    state = getattr(app, "state", None)
    cached = getattr(state, "_route_patterns", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    patterns: list[tuple[re.Pattern[str], str]] = []
    try:
        paths = app.openapi().get("paths", {})
    except Exception:
        paths = {}
    for template in paths:
        regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "/?$"
        patterns.append((re.compile(regex), template))
    if state is not None:
        state._route_patterns = patterns
    return patterns


async def _send_problem(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    await response(scope, receive, send)


# ---- body size ----------------------------------------------------------------------------


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once a streamed body crosses its limit.

    A subclass of HTTPException so that FastAPI's body parsing re-raises it unchanged instead
    of turning it into a 400; the middleware answers 413 itself in any case.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")
        self.limit = limit


@dataclass(frozen=True)
class BodyLimits:
    """Maximum request body per path: the first matching rule wins, else `default`."""

    default: int = JSON_BODY_LIMIT
    rules: tuple[tuple[re.Pattern[str], int], ...] = field(default_factory=tuple)

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.rules:
            if pattern.match(path):
                return limit
        return self.default

    @classmethod
    def for_api(cls, settings: Settings) -> "BodyLimits":
        """Uploads: the document limit plus multipart framing; codec: Temporal payloads; else 1 MiB."""
        return cls(
            default=JSON_BODY_LIMIT,
            rules=(
                (UPLOAD_PATH, settings.max_upload_bytes + MULTIPART_OVERHEAD),
                (CODEC_PATH, CODEC_BODY_LIMIT),
            ),
        )


def _too_large(limit: int) -> Response:
    return problem(
        413, "Request body too large", f"The request body may be at most {limit} bytes.",
        headers={"Connection": "close"}, limit=limit,
    )


# Lingering close (as nginx does): after answering a request whose body is still arriving,
# read and discard a bounded amount of it before the connection closes. Closing at once
# makes the kernel reset the connection over the unread bytes, and clients that only read
# after they finish writing (httpx, requests) then lose the answer to the reset.
LINGER_SECONDS = 2.0
LINGER_BYTES = 8 * MIB


async def _linger(receive: Receive) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_SECONDS
    drained = 0
    while drained < LINGER_BYTES:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), timeout=remaining)
        except (asyncio.TimeoutError, Exception):
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        drained += len(message.get("body", b""))


async def _answer_then_close(receive: Receive, send: Send, response: Response) -> None:
    """Send a complete response (Connection: close), linger on the unread body, finish."""
    headers = MutableHeaders(raw=list(response.raw_headers))
    headers["connection"] = "close"
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers.raw})
    await send({"type": "http.response.body", "body": response.body, "more_body": True})
    await _linger(receive)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class BodyLimitMiddleware:
    """Refuse over-long bodies with 413 problem+json, before or while they stream in.

    - `Content-Length` above the limit: answered at once, nothing read.
    - chunked (or lying) bodies: bytes are counted per `http.request` message; past the
      limit `receive` raises BodyTooLarge, whatever the app answers is dropped and a 413 is
      sent instead, so at most limit + one server read buffer is ever held.
    - Every response sent before the request body was fully read carries
      `Connection: close` and is followed by a short, bounded lingering drain, so the server
      drops the connection instead of draining a body nobody wants, and the client still
      reads the answer.
    """

    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None,
                 on_reject: Callable[[Scope], None] | None = None) -> None:
        self.app = app
        self.limits = limits or BodyLimits()
        self.on_reject = on_reject

    def _rejected(self, scope: Scope) -> None:
        if self.on_reject is not None:
            self.on_reject(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.limit_for(scope.get("path", ""))
        raw_length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        length: int | None = None
        if raw_length is not None:
            try:
                length = int(raw_length)
            except ValueError:
                length = None  # the HTTP server rejects malformed framing before we run
        if length is not None and length > limit:
            self._rejected(scope)
            await _answer_then_close(receive, send, _too_large(limit))
            return

        received = 0
        body_done = not chunked and not length
        exceeded = False
        started = False
        closing = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, exceeded
            if exceeded:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    body_done = True
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            elif message["type"] == "http.disconnect":
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, closing
            if exceeded and not started:
                return  # the app's answer to a body we refused; ours follows
            if message["type"] == "http.response.start":
                started = True
                if not body_done:
                    closing = True
                    headers = MutableHeaders(raw=list(message.get("headers", [])))
                    headers["connection"] = "close"
                    message = {**message, "headers": headers.raw}
            elif closing and message["type"] == "http.response.body" and not message.get("more_body", False):
                await send({**message, "more_body": True})
                await _linger(receive)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not (exceeded and not started):
                raise
        if exceeded and not started:
            self._rejected(scope)
            await _answer_then_close(receive, send, _too_large(limit))


# ---- rate limit ---------------------------------------------------------------------------


class RateLimitMiddleware:
    """429 problem+json with Retry-After when a subject's bucket is empty.

    Only the submission endpoints (ratelimit.LIMITED_ROUTES) count; unauthenticated or
    invalid-token requests pass through untouched so the route answers 401 as usual. The
    limiter is read from `app.state.rate_limiter` on each request, so it can be swapped.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limited = limited_route(scope["method"], scope.get("path", "")) if scope["type"] == "http" else None
        if limited is not None:
            state = _state(scope)
            limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
            principal = verified_principal(scope) if limiter is not None else None
            if limiter is not None and principal is not None:
                decision = limiter.hit(f"{limited.group}:{principal.sub}", limited.cost)
                if not decision.allowed:
                    metrics = getattr(state, "metrics", None)
                    if isinstance(metrics, ApiMetrics):
                        metrics.rate_limited.labels(route=route_template(scope)).inc()
                    retry = retry_after_header(decision.retry_after_seconds)
                    response = problem(
                        429, "Too many requests",
                        f"Too many submissions for this account; retry in {retry} s.",
                        headers={"Retry-After": retry}, retry_after=int(retry),
                    )
                    await _send_problem(scope, receive, send, response)
                    return
        await self.app(scope, receive, send)


# ---- request context: id, headers, access log, metrics -----------------------------------

BASE_SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)
# JSON never needs to load anything or be framed; HTML pages (console, /docs) set their own.
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
NO_STORE_PREFIXES = ("/v1/", "/codec/", "/metrics")


class RequestContextMiddleware:
    """Request id, security headers, one access-log line and HTTP metrics per request.

    The log line holds the method, the route *template*, status, duration, request id, role
    and a keyed hash of the subject: never the raw path (ids), query string (names typed into
    filters), client address or the subject itself.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics | None = None, service: str = "api") -> None:
        self.app = app
        self.metrics = metrics
        self.service = service

    def _metrics(self, scope: Scope) -> ServiceMetrics | None:
        found = getattr(_state(scope), "metrics", None)
        return found if isinstance(found, ServiceMetrics) else self.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        inbound = _header(scope, REQUEST_ID_HEADER.encode())
        candidate = inbound.decode("latin-1") if inbound else ""
        request_id = candidate if _SAFE_REQUEST_ID.match(candidate) else uuid.uuid4().hex
        path: str = scope.get("path", "")
        status = 500
        capture = scope["method"] == "POST" and bool(_DECISION_PATH.match(path))
        captured = bytearray()

        async def capturing_receive() -> Message:
            message = await receive()
            if capture and message["type"] == "http.request" and len(captured) < _DECISION_CAPTURE_LIMIT:
                captured.extend(message.get("body", b"")[: _DECISION_CAPTURE_LIMIT - len(captured)])
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in BASE_SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
                headers[REQUEST_ID_HEADER] = request_id
                content_type = headers.get("content-type", "")
                if path.startswith(NO_STORE_PREFIXES) and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if (content_type.startswith(("application/json", PROBLEM_JSON))
                        and "content-security-policy" not in headers):
                    headers["content-security-policy"] = JSON_CSP
                message = {**message, "headers": headers.raw}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, capturing_receive if capture else receive, send_with_headers)
            finally:
                self._finish(scope, status, time.perf_counter() - start, request_id, bytes(captured))

    def _finish(self, scope: Scope, status: int, seconds: float, request_id: str, body: bytes) -> None:
        route = route_template(scope)
        method = scope["method"]
        metrics = self._metrics(scope)
        if metrics is not None:
            metrics.observe_request(route, method, status, seconds)
            if isinstance(metrics, ApiMetrics):
                metrics.record_api_event(route, method, status, _decision_action(body) if body else None)
        principal = verified_principal(scope)
        fields: dict[str, Any] = {
            "method": method if method.isalpha() and len(method) <= 10 else "OTHER",
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "sub_hash": hash_subject(principal.sub) if principal is not None else None,
            "role": getattr(principal, "role", None),
        }
        if status >= 500:
            access_log.warning("http_request", **fields)
        else:
            access_log.info("http_request", **fields)


def _decision_action(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    action = data.get("action") if isinstance(data, dict) else None
    return action if isinstance(action, str) else None


def wrap_outermost(app: FastAPI, wrapper: Callable[[ASGIApp], ASGIApp]) -> None:
    """Put `wrapper` outside Starlette's ServerErrorMiddleware (add_middleware cannot), so
    even the 500 it renders passes through it. Must run before the app serves a request."""
    if app.middleware_stack is not None:
        raise RuntimeError("wrap_outermost must be called before the app starts")
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        return wrapper(build())

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]


# ---- OpenAPI: document the error shape ----------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; every 4xx/5xx answer has this shape.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {}},
        "error_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: FastAPI declares 422 as
    `application/json` HTTPValidationError, we answer `application/problem+json` Problem,
    and every client error (4XX) has that shape too. Bearer auth is declared for /v1 and
    /codec so /docs offers "Authorize"."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        }
        ref = {"$ref": "#/components/schemas/Problem"}
        problem_response = {"description": "Problem details (RFC 9457)",
                            "content": {PROBLEM_JSON: {"schema": ref}}}
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if "422" in responses:
                    responses["422"] = {"description": "Validation error", "content": {PROBLEM_JSON: {"schema": ref}}}
                responses.setdefault("4XX", problem_response)
                if path.startswith(("/v1/", "/codec/")):
                    operation.setdefault("security", [{"bearerAuth": []}])
        schemas = components["schemas"]
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---- wiring -------------------------------------------------------------------------------


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Wire every layer into the API app; call once at the end of create_app.

    Sets `app.state.rate_limiter` (from CREDITFLOW_RATE_LIMIT_* unless already set) and
    `app.state.metrics` (ApiMetrics), adds GET /metrics and documents problem responses.
    """
    from creditflow.api.routes import metrics as metrics_routes

    if getattr(app.state, "rate_limiter", None) is None:
        app.state.rate_limiter = RateLimiter.from_settings()
    metrics = getattr(app.state, "metrics", None)
    if not isinstance(metrics, ApiMetrics):
        metrics = ApiMetrics()
        app.state.metrics = metrics

    def count_413(scope: Scope) -> None:
        found = getattr(_state(scope), "metrics", None)
        if isinstance(found, ApiMetrics):
            found.bodies_too_large.inc()

    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.for_api(settings), on_reject=count_413)
    wrap_outermost(app, lambda inner: RequestContextMiddleware(inner, metrics=metrics, service="api"))
    app.include_router(metrics_routes.router)
    document_problems(app)


def install_nlp_hardening(app: FastAPI, *, max_body_bytes: int = 4 * MIB) -> NlpMetrics:
    """For the NLP service's create_app: body limit, headers, access log, HTTP metrics and an
    unauthenticated GET /metrics (the service listens on loopback / a private network and has
    no users). Returns the NlpMetrics; time analyses with `metrics.time_analysis(kind, chars)`.

    Size the limit from settings.max_nlp_chars: JSON-escaped text can take up to 6 bytes per
    character, e.g. `max_body_bytes=settings.max_nlp_chars * 6 + 64 * 1024`.
    """
    metrics = NlpMetrics()
    app.state.metrics = metrics
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits(default=max_body_bytes))
    wrap_outermost(app, lambda inner: RequestContextMiddleware(inner, metrics=metrics, service="nlp"))

    async def metrics_endpoint() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    return metrics
