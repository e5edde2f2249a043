"""The NLP service's HTTP client: the API's analyses at upload and creation, and the worker's activities.

Why aiohttp here while the rest of creditflow uses httpx: these calls are on every application's path
(one per uploaded document and one per note, four for a typical application), and per call httpx with
httpcore spent ~1.05 ms of client CPU against ~0.26 ms for aiohttp on the same request and machine
(benchmarks/RESULTS.md, item 25). On two shared cores that CPU comes out of decisions per second.
Occasional calls (witness, servicing notes, the demo seeder) stay on httpx.

Tracing: when on, each call is a CLIENT span of the caller's tracer provider and carries the W3C
`traceparent` (the global propagator), as the httpx instrumentation does for httpx calls, so the NLP
service's span continues the caller's trace. The aiohttp instrumentation package was not used: no
release matches the pinned OpenTelemetry instrumentation version.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


class NlpUnavailable(Exception):
    """The service could not be reached, or did not answer within the timeout: worth retrying later."""


@dataclass(frozen=True)
class NlpResponse:
    status: int
    body: Any  # the decoded JSON, or None when the body was not JSON

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None


class NlpClient:
    """One pooled connection set to the NLP service, opened on first use.

    The session belongs to the event loop that opened it (aiohttp's rule); a call from another loop
    (tests that run each case in a new loop) opens a new one. `aclose` closes the current one.
    """

    def __init__(self, *, timeout_s: float, connect_timeout_s: float = 5.0,
                 tracer_provider: "TracerProvider | None" = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(connect_timeout_s, timeout_s))
        self._tracer = tracer_provider.get_tracer("creditflow.nlp_client") if tracer_provider is not None else None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout, json_serialize=_compact_json)
            self._loop = loop
        return self._session

    async def analyze(self, base_url: str, text: str, kind: str) -> NlpResponse:
        """POST {base_url}/v1/analyze. The service's address is read from the settings on each call, as
        before this client existed. Raises NlpUnavailable when the service cannot answer; any HTTP
        status (including 4xx/5xx) is returned for the caller to judge."""
        url = f"{base_url.rstrip('/')}/v1/analyze"
        body = {"text": text, "kind": kind}
        if self._tracer is None:
            return await self._post(url, body, {})
        return await self._traced_post(url, body)

    async def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> NlpResponse:
        try:
            async with self._current_session().post(url, json=body, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise NlpUnavailable(f"NLP service unreachable: {type(err).__name__}") from err
        try:
            return NlpResponse(status, json.loads(raw))
        except ValueError:
            return NlpResponse(status, None)

    async def _traced_post(self, url: str, body: dict[str, Any]) -> NlpResponse:
        from opentelemetry.propagate import inject
        from opentelemetry.trace import SpanKind, Status, StatusCode

        assert self._tracer is not None
        parts = urlsplit(url)
        attributes = {"http.request.method": "POST", "url.full": url, "server.address": parts.hostname or "",
                      "server.port": parts.port or 80}
        with self._tracer.start_as_current_span("POST", kind=SpanKind.CLIENT, attributes=attributes) as span:
            headers: dict[str, str] = {}
            inject(headers)  # traceparent of this span: the service's span becomes its child
            resp = await self._post(url, body, headers)
            span.set_attribute("http.response.status_code", resp.status)
            if resp.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return resp

    async def aclose(self) -> None:
        """Close the session if this loop opened it (one opened by a loop now gone is only dropped)."""
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


def _compact_json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
