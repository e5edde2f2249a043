"""creditflow.nlp_client against a real HTTP server on loopback (a small ASGI app standing in for the
NLP service, so each answer the client must handle can be provoked; the real service is exercised by
the API, activity and tracing tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from creditflow.nlp_client import NlpClient, NlpUnavailable
from tests.conftest import free_port, serve


async def _echo(request: Request) -> Response:
    body = await request.json()
    return JSONResponse({"got": body, "traceparent": request.headers.get("traceparent")})


async def _slow(request: Request) -> Response:
    await asyncio.sleep(3)
    return JSONResponse({})


def _app() -> Starlette:
    return Starlette(routes=[
        Route("/healthz", lambda r: PlainTextResponse("ok")),
        Route("/ok/v1/analyze", _echo, methods=["POST"]),
        Route("/html/v1/analyze", lambda r: PlainTextResponse("<html>proxy error</html>", 502), methods=["POST"]),
        Route("/refuse/v1/analyze", lambda r: JSONResponse({"detail": "too large"}, 413), methods=["POST"]),
        Route("/slow/v1/analyze", _slow, methods=["POST"]),
    ])


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(_app()) as base:
        yield base


async def test_returns_status_and_decoded_body(url: str) -> None:
    nlp = NlpClient(timeout_s=5)
    try:
        ok = await nlp.analyze(f"{url}/ok", "Customer since 2019.", "note")
        assert ok.ok and ok.status == 200
        assert ok.body["got"] == {"text": "Customer since 2019.", "kind": "note"}
        assert ok.body["traceparent"] is None  # tracing off: nothing added to the request

        refused = await nlp.analyze(f"{url}/refuse/", "x" * 10, "document")
        assert (refused.status, refused.body, refused.ok) == (413, {"detail": "too large"}, False)

        not_json = await nlp.analyze(f"{url}/html", "text", "document")
        assert (not_json.status, not_json.body, not_json.ok) == (502, None, False)
    finally:
        await nlp.aclose()


async def test_unreachable_and_slow_services_raise_nlp_unavailable(url: str) -> None:
    nlp = NlpClient(timeout_s=0.5, connect_timeout_s=0.5)
    try:
        with pytest.raises(NlpUnavailable, match="unreachable"):
            await nlp.analyze(f"http://127.0.0.1:{free_port()}", "text", "note")  # nobody listens there
        with pytest.raises(NlpUnavailable):
            await nlp.analyze(f"{url}/slow", "text", "note")
        assert (await nlp.analyze(f"{url}/ok", "still usable", "note")).ok  # the pool survived both
    finally:
        await nlp.aclose()


def test_a_client_serves_callers_on_different_event_loops(url: str) -> None:
    """aiohttp sessions belong to one loop; a client reused from another (as tests and scripts do with
    asyncio.run) opens a new session there instead of failing."""
    nlp = NlpClient(timeout_s=5)
    for _ in range(2):
        assert asyncio.run(nlp.analyze(f"{url}/ok", "hello", "note")).ok
    asyncio.run(nlp.aclose())


async def test_traced_call_is_a_client_span_whose_context_reaches_the_service(url: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    nlp = NlpClient(timeout_s=5, tracer_provider=provider)
    try:
        with provider.get_tracer("test").start_as_current_span("caller") as caller:
            resp = await nlp.analyze(f"{url}/ok", "hello", "note")
            failed = await nlp.analyze(f"{url}/html", "hello", "note")
        with pytest.raises(NlpUnavailable):
            await nlp.analyze(f"http://127.0.0.1:{free_port()}", "hello", "note")
    finally:
        await nlp.aclose()
    spans = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert len(spans) == 3
    ok_span, failed_span, down_span = spans
    assert ok_span.parent is not None and ok_span.parent.span_id == caller.get_span_context().span_id
    assert ok_span.attributes["http.response.status_code"] == 200
    assert ok_span.attributes["url.full"] == f"{url}/ok/v1/analyze"
    # W3C traceparent: version-traceid-spanid-flags, naming this span as the service's parent
    _, trace_id, span_id, _ = resp.body["traceparent"].split("-")
    assert int(trace_id, 16) == ok_span.context.trace_id and int(span_id, 16) == ok_span.context.span_id
    assert failed.status == 502 and failed_span.status.status_code == StatusCode.ERROR
    assert down_span.status.status_code == StatusCode.ERROR and down_span.events[0].name == "exception"
    assert "hello" not in json.dumps(dict(ok_span.attributes))  # the request body (applicant text) is not recorded
