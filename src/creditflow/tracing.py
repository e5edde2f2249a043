"""OpenTelemetry tracing for the API, the worker and the NLP service: one trace per request,
from the API's HTTP span through the workflow and its activities to the NLP service.

Why one module: the three processes must agree on how a trace is carried (W3C `traceparent`
over HTTP, temporalio's `_tracer-data` header through Temporal), on span names and on how an
exporter is chosen; if each process wired this itself, one hop would silently drop the context.

Off by default (`CREDITFLOW_OTEL_ENABLED=false`): then nothing here builds a provider, imports
the SDK, patches httpx or wraps an app, so tests and `make run` pay nothing. When on:

- API and NLP service: a SERVER span per HTTP request, as the outermost ASGI layer (so the
  access-log line is inside it), named `METHOD /route/{template}`, continuing an incoming
  `traceparent`; structlog lines written while it runs carry `trace_id`.
- Temporal: temporalio's `TracingInterceptor` on the API's client (StartWorkflow, SignalWorkflow,
  StartWorkflowUpdate, QueryWorkflow spans) and on the worker (RunWorkflow, StartActivity,
  RunActivity, HandleSignal, ...). Workflow spans are zero-length markers (replay safety).
- Calls to the NLP service (activities -> NLP, the API's analyses at upload and creation -> NLP)
  go through creditflow.nlp_client, which opens a CLIENT span of the caller's provider and sends
  `traceparent`, so the NLP service continues the trace. Other httpx calls (servicing notes,
  witness) get the same from the httpx instrumentation.

Export follows the standard variables: `OTEL_TRACES_EXPORTER` = `otlp` (default; OTLP/HTTP
protobuf to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`, default
http://localhost:4318), `console` or `none`; `OTEL_BSP_*` tune the batch processor;
`OTEL_RESOURCE_ATTRIBUTES` adds resource attributes; `OTEL_SDK_DISABLED=true` keeps tracing off.
`service.name` is fixed per process (creditflow-api, creditflow-worker, creditflow-nlp) so one
shared environment cannot make the three look like one service.

Providers are kept per service name, not set as the global provider: in production each process
has exactly one, and tests that run API, worker and NLP service in one process still get three
correctly named services (and can shut them down again, which a global provider cannot).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import trace

from creditflow.config import Settings
from creditflow.logs import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from starlette.types import ASGIApp, Receive, Scope, Send
    from temporalio.client import Client

API_SERVICE = "creditflow-api"
WORKER_SERVICE = "creditflow-worker"
NLP_SERVICE = "creditflow-nlp"
# Probes and scrapes would be most of the spans and tell nothing about an application.
EXCLUDED_URLS = "/healthz,/metrics"

log = get_logger("creditflow.tracing")

_lock = threading.Lock()
_providers: dict[str, "TracerProvider"] = {}
_httpx_instrumented = False


def enabled(settings: Settings) -> bool:
    """Tracing is on: our switch, unless the standard OTEL_SDK_DISABLED kill switch is set."""
    return settings.otel_enabled and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"


def tracer_provider(settings: Settings, service_name: str) -> "TracerProvider | None":
    """This process's provider for `service_name`, built on first use; None when tracing is off.

    The first provider built in a process also instruments httpx (process-wide: every client,
    including ones created before, injects `traceparent` and records a CLIENT span).
    """
    if not enabled(settings):
        return None
    with _lock:
        provider = _providers.get(service_name)
        if provider is None:
            provider = _providers[service_name] = _new_provider(service_name)
            _instrument_httpx(provider)
    return provider


def _new_provider(service_name: str) -> "TracerProvider":
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Attributes passed here win over OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    names = []
    for name, exporter in _exporters_from_env():
        provider.add_span_processor(BatchSpanProcessor(exporter))
        names.append(name)
    log.info("tracing_enabled", service_name=service_name, exporters=names or ["none"])
    return provider


def _exporters_from_env() -> list[tuple[str, "SpanExporter"]]:
    """Exporters named by OTEL_TRACES_EXPORTER (comma-separated; default otlp)."""
    found: list[tuple[str, SpanExporter]] = []
    for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(","):
        name = name.strip()
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            found.append((name, OTLPSpanExporter()))
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            found.append((name, ConsoleSpanExporter()))
        elif name not in ("", "none"):
            log.warning("otel_exporter_unknown", exporter=name, supported="otlp, console, none")
    return found


def _instrument_httpx(provider: "TracerProvider") -> None:
    global _httpx_instrumented
    if _httpx_instrumented:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _httpx_instrumented = True


def shutdown() -> None:
    """Flush and close every provider and undo the httpx instrumentation (tests; process exit
    flushes on its own through the SDK's atexit hook)."""
    global _httpx_instrumented
    with _lock:
        for provider in _providers.values():
            provider.shutdown()
        _providers.clear()
        if _httpx_instrumented:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().uninstrument()
            _httpx_instrumented = False


# ---- Temporal -------------------------------------------------------------------------------


def temporal_interceptors(settings: Settings, service_name: str) -> list[Any]:
    """temporalio's TracingInterceptor bound to this service's provider, or [] when off.

    Give it to a client OR to a worker, never both for the same client (temporalio would create
    every span twice).
    """
    provider = tracer_provider(settings, service_name)
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("creditflow.temporal"))]


def traced_client(client: "Client", settings: Settings, service_name: str = API_SERVICE) -> "Client":
    """`client` with the TracingInterceptor added (same connection), or `client` itself when
    tracing is off or it is already traced. Start/signal/update spans then parent workflow spans."""
    if not enabled(settings):
        return client
    from temporalio.client import Client
    from temporalio.contrib.opentelemetry import TracingInterceptor

    config = client.config()
    if any(isinstance(i, TracingInterceptor) for i in config["interceptors"]):
        return client
    extra = temporal_interceptors(settings, service_name)
    if not extra:
        return client
    config["interceptors"] = [*config["interceptors"], *extra]
    return Client(**config)


# ---- HTTP servers ---------------------------------------------------------------------------


class _TraceIdInLogs:
    """Binds the current trace id into structlog's contextvars for the rest of the request, so
    every log line of a traced request (the access log too) can be found from the trace."""

    def __init__(self, app: "ASGIApp") -> None:
        self.app = app

    async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
        ctx = trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            await self.app(scope, receive, send)
            return
        with structlog.contextvars.bound_contextvars(trace_id=trace.format_trace_id(ctx.trace_id)):
            await self.app(scope, receive, send)


def _span_details(scope: "Scope") -> tuple[str, dict[str, str]]:
    """Span name from the route template (`POST /v1/applications/{application_id}/submit`),
    never the raw path: ids in names would make every request its own operation."""
    from creditflow.api.middleware import route_template

    route = route_template(scope)
    method = str(scope.get("method", "HTTP"))
    return f"{method} {route}", {"http.route": route}


def instrument_app(app: "FastAPI", settings: Settings, service_name: str) -> bool:
    """Make a SERVER span the outermost layer of `app`; True when tracing is on.

    Call it last in the app factory (after install_hardening), before the app serves.
    """
    provider = tracer_provider(settings, service_name)
    if provider is None:
        return False
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    from creditflow.api.middleware import wrap_outermost

    wrap_outermost(app, lambda inner: OpenTelemetryMiddleware(
        _TraceIdInLogs(inner), excluded_urls=EXCLUDED_URLS, default_span_details=_span_details,
        tracer_provider=provider, exclude_spans=["receive", "send"],
    ))
    return True


def current_trace_id() -> str | None:
    """The active span's trace id as 32 hex digits, or None outside a (sampled) trace."""
    ctx = trace.get_current_span().get_span_context()
    return trace.format_trace_id(ctx.trace_id) if ctx.is_valid else None
