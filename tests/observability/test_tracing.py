"""OpenTelemetry tracing end to end: one application submitted through the real API, decided by a
real worker on the session's Temporal dev server, with the real NLP service over HTTP.

The API, worker and NLP service run in this process (uvicorn threads, as in tests/conftest.py),
each with its own provider (service.name creditflow-api / -worker / -nlp); an in-memory exporter
is attached to all three, so the test sees every span that would have been exported.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from creditflow import tracing
from creditflow.config import Settings
from creditflow.demo import demo_cases, submit_case
from tests.conftest import serve
from tests.helpers import captured_logs

CASE = next(c for c in demo_cases() if c["label"] == "clear approval")  # has a note: its analysis calls NLP
DECIDED = {"approved", "declined", "in_review"}


# ---- fixtures: the conftest stack, with tracing on -------------------------------------------


@pytest.fixture
def spans(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test's settings; every provider also exports into memory."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")  # no collector here: only the in-memory exporter
    settings.otel_enabled = True
    exporter = InMemorySpanExporter()
    # The worker's provider first: it is the one that instruments httpx (process-wide), and the
    # traced HTTP calls that matter here are made by activities.
    for service in (tracing.WORKER_SERVICE, tracing.API_SERVICE, tracing.NLP_SERVICE):
        provider = tracing.tracer_provider(settings, service)
        assert provider is not None
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.shutdown()


@pytest.fixture
def traced_nlp_url(spans: InMemorySpanExporter, settings: Settings) -> Iterator[str]:
    from creditflow.nlp.service import create_app

    with serve(create_app(settings)) as url:  # the pipeline is loaded once per process
        yield url


@pytest_asyncio.fixture
async def traced_worker(temporal_env, settings: Settings, db, traced_nlp_url: str,  # type: ignore[no-untyped-def]
                        task_queue: str):
    from creditflow.worker import build_worker

    settings.nlp_url = traced_nlp_url
    settings.task_queue = task_queue
    async with build_worker(temporal_env.client, settings, db, task_queue=task_queue) as w:
        yield w


@pytest.fixture
def traced_api_url(temporal_env, traced_worker, settings: Settings, db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from creditflow.api.app import create_app

    with serve(create_app(settings, temporal=temporal_env.client, db=db), timeout=30) as url:
        yield url


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    with captured_logs("api") as stream:
        yield stream


# ---- helpers ---------------------------------------------------------------------------------


async def submit_and_wait(api_url: str, token: str, key: str, db: Any = None) -> tuple[str, dict[str, Any]]:
    """Create, upload, submit, wait for the decision. With `db`: the notes' analyses stored at creation
    are dropped before `submit`, as when the NLP service could not be reached then, so the worker's
    activity analyses them (the API -> workflow -> activity -> NLP path)."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        if db is None:
            app_id = await submit_case(http, token, CASE, key=key)
        else:
            from creditflow.demo import create_case
            from creditflow.store import repo

            app_id = await create_case(http, token, CASE, key=key)
            with db.session() as s:
                s.execute(repo.NOTE_ANALYSES.delete().where(repo.NOTE_ANALYSES.c.application_id == app_id))
            r = await http.post(f"/v1/applications/{app_id}/submit", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 202, r.text
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while True:
            r = await http.get(f"/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            body = r.json()
            if body["stage"] in DECIDED:
                return app_id, body
            assert loop.time() < deadline, f"application stuck in {body['stage']}"
            await asyncio.sleep(0.2)


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get("service.name"))


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    """Parent, grandparent, ... as far as the exported spans reach."""
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def one(found: list[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"{what}: {[(s.name, service(s)) for s in found]}"
    return found[0]


async def finished(exporter: InMemorySpanExporter, ready: Any) -> list[ReadableSpan]:
    """The finished spans once `ready(spans)` holds: a server span ends just after its last byte
    is sent, so the client (and this test) can be a moment ahead of it."""
    for _ in range(200):
        got = list(exporter.get_finished_spans())
        if ready(got):
            return got
        await asyncio.sleep(0.05)
    return list(exporter.get_finished_spans())


# ---- tests -----------------------------------------------------------------------------------


async def test_one_trace_from_api_through_workflow_and_activity_to_nlp(
        traced_api_url: str, tokens: dict[str, str], spans: InMemorySpanExporter, log_stream: io.StringIO,
        db: Any) -> None:
    app_id, body = await submit_and_wait(traced_api_url, tokens["applicant"], "otel-1", db=db)
    assert body["stage"] == "approved", body

    def nlp_from_activity(got: list[ReadableSpan]) -> bool:
        by_id = {s.context.span_id: s for s in got}
        return any(s.name == "POST /v1/analyze" and service(s) == tracing.NLP_SERVICE
                   and any(a.name == "RunActivity:analyze_application" for a in ancestors(s, by_id)) for s in got)

    got = await finished(spans, nlp_from_activity)
    by_id = {s.context.span_id: s for s in got}

    # the API request that created the application (and started its workflow) opens the trace
    api = one([s for s in got if s.name == "POST /v1/applications" and s.kind == SpanKind.SERVER], "API span")
    assert service(api) == tracing.API_SERVICE
    assert api.attributes is not None and api.attributes["http.route"] == "/v1/applications"
    trace_id = api.context.trace_id
    in_trace = [s for s in got if s.context.trace_id == trace_id]

    start = one([s for s in in_trace if s.name == "StartWorkflow:CreditApplicationWorkflow"], "start span")
    assert service(start) == tracing.API_SERVICE and start.kind == SpanKind.CLIENT and api in ancestors(start, by_id)
    assert start.attributes is not None and start.attributes["temporalWorkflowID"] == f"application-{app_id}"

    run = one([s for s in in_trace if s.name == "RunWorkflow:CreditApplicationWorkflow"], "workflow span")
    assert service(run) == tracing.WORKER_SERVICE and start in ancestors(run, by_id)

    activity = one([s for s in in_trace if s.name == "RunActivity:analyze_application"], "activity span")
    assert service(activity) == tracing.WORKER_SERVICE and start in ancestors(activity, by_id)
    assert activity.attributes is not None and activity.attributes["temporalWorkflowID"] == f"application-{app_id}"
    assert {"RunActivity:decide_application", "RunActivity:record_step"} <= {s.name for s in in_trace}

    # the activity's HTTP call carried traceparent: the NLP service's span continues this trace
    nlp = one([s for s in in_trace if s.name == "POST /v1/analyze" and service(s) == tracing.NLP_SERVICE
               and activity in ancestors(s, by_id)], "NLP span under the activity")
    assert nlp.kind == SpanKind.SERVER and nlp.context.trace_id == trace_id
    chain = ancestors(nlp, by_id)
    client = chain[0]  # the httpx CLIENT span made inside the activity
    assert client.kind == SpanKind.CLIENT and client.parent is not None
    assert client.parent.span_id == activity.context.span_id
    assert start in chain and api in chain

    # the notes' analysis at creation (API -> NLP directly) continues the creation request's trace
    assert any(n.name == "POST /v1/analyze" and service(n) == tracing.NLP_SERVICE and api in ancestors(n, by_id)
               for n in got)

    # each upload's best-effort classification (API -> NLP directly) continues the upload's trace
    uploads = [s for s in got if s.name == "POST /v1/applications/{application_id}/documents"]
    assert len(uploads) == len(CASE["documents"])
    for upload in uploads:
        assert service(upload) == tracing.API_SERVICE and upload.context.trace_id != trace_id
        assert any(n.name == "POST /v1/analyze" and service(n) == tracing.NLP_SERVICE
                   and upload in ancestors(n, by_id) for n in got), upload.name

    # the access-log line of the traced request names its trace
    hex_id = trace.format_trace_id(trace_id)
    records = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]
    access = [r for r in records if r.get("event") == "http_request" and r.get("route") == "/v1/applications"
              and r.get("method") == "POST"]
    assert [r.get("trace_id") for r in access] == [hex_id], access


async def test_api_that_connects_lazily_traces_its_temporal_client(
        temporal_env, settings: Settings, db, tokens: dict[str, str], task_queue: str,  # type: ignore[no-untyped-def]
        spans: InMemorySpanExporter) -> None:
    """Production path: `creditflow api` builds the app without a client and connects on first use."""
    from temporalio.contrib.opentelemetry import TracingInterceptor

    from creditflow.api.app import create_app

    settings.temporal_address = temporal_env.client.service_client.config.target_host
    settings.task_queue = task_queue  # no worker: the workflow is only started
    app = create_app(settings, db=db)
    assert app.state.temporal is None
    with serve(app, timeout=30) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            r = await http.post("/v1/applications", json=CASE["body"],
                                headers={"Authorization": f"Bearer {tokens['applicant']}"})
            assert r.status_code == 201, r.text
    assert any(isinstance(i, TracingInterceptor) for i in app.state.temporal.config()["interceptors"])
    got = await finished(spans, lambda g: any(s.name == "POST /v1/applications" for s in g))
    api = one([s for s in got if s.name == "POST /v1/applications"], "API span")
    start = one([s for s in got if s.name == "StartWorkflow:CreditApplicationWorkflow"], "start span")
    assert start.parent is not None and start.parent.span_id == api.context.span_id


async def test_worker_log_lines_inside_a_traced_activity_carry_its_trace_id(
        settings: Settings, spans: InMemorySpanExporter, log_stream: io.StringIO) -> None:
    """The worker's interceptor chain, in production order, around an activity that logs."""
    from temporalio.testing import ActivityEnvironment
    from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

    from creditflow.logs import get_logger
    from creditflow.telemetry import worker_interceptors

    class Body(ActivityInboundInterceptor):  # the innermost step: what the activity itself does
        def __init__(self) -> None:
            pass

        async def execute_activity(self, input: ExecuteActivityInput) -> Any:
            get_logger("test.activity").info("inside_activity")

    async def run_chain() -> None:
        chain: ActivityInboundInterceptor = Body()
        for interceptor in reversed(worker_interceptors(settings)):  # the first is the outermost
            chain = interceptor.intercept_activity(chain)
        await chain.execute_activity(ExecuteActivityInput(fn=run_chain, args=[], executor=None, headers={}))

    await ActivityEnvironment().run(run_chain)
    activity = one([s for s in spans.get_finished_spans() if s.name.startswith("RunActivity:")], "activity span")
    records = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]
    inside = [r for r in records if r.get("event") == "inside_activity"]
    assert len(inside) == 1, records
    assert inside[0].get("trace_id") == trace.format_trace_id(activity.context.trace_id), inside
    assert inside[0]["workflow_id"] and inside[0]["activity"]


async def test_tracing_off_installs_nothing_and_exports_nothing(
        api_url: str, nlp_url: str, tokens: dict[str, str], settings: Settings,
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The conftest stack (tracing off, the default): no provider, no instrumentation, no spans,
    even with an exporter that would print every span."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from temporalio.contrib.opentelemetry import TracingInterceptor

    from creditflow.telemetry import worker_interceptors

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert settings.otel_enabled is False
    assert tracing.tracer_provider(settings, tracing.API_SERVICE) is None
    assert tracing._providers == {}
    assert not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
    assert not any(isinstance(i, TracingInterceptor) for i in worker_interceptors(settings))
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # nobody set a global one

    app_id, body = await submit_and_wait(api_url, tokens["applicant"], "otel-off")
    assert body["stage"] == "approved", body
    async with httpx.AsyncClient(base_url=nlp_url, timeout=60) as http:
        r = await http.post("/v1/analyze", json={"text": "Customer since 2019.", "kind": "note"},
                            headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
        assert r.status_code == 200

    tracing.shutdown()  # would flush any provider that had been built
    assert tracing._providers == {}
    out = capfd.readouterr().out
    assert '"trace_id"' not in out and "span_id" not in out
