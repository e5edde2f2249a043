"""Worker telemetry: Temporal SDK metrics for Prometheus, optional OpenTelemetry tracing, and log
correlation (every log line written while an activity runs carries its workflow id).

Why here and not in worker.py: the worker only wires things together; what is measured, on
which port, and how a log line finds its workflow is policy that operations change (see
docs/OPERATIONS.md). Everything is off by default so tests and `make run` pay nothing for it.

- SDK metrics: `CREDITFLOW_WORKER_METRICS_PORT=9464` makes the Temporal Core SDK serve
  `temporal_*` series (workflow/activity task latencies, schedule-to-start, sticky cache hits,
  poller counts, failures) at http://<host>:9464/metrics. The Runtime must exist before the
  client connects, so `install_runtime` sets it as the process default.
- Tracing: `CREDITFLOW_OTEL_ENABLED=true` adds temporalio's OpenTelemetry interceptor, which
  continues the trace started by the API's client through workflow and activity spans (provider,
  exporter and the httpx hop to the NLP service: `creditflow.tracing`).
- Logs: `LogContextInterceptor` binds workflow_id, run_id, activity type, attempt (and trace_id
  when traced) into structlog's contextvars for the duration of each activity, and logs failures
  with them.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from creditflow.config import Settings
from creditflow.logs import get_logger
from creditflow.tracing import WORKER_SERVICE, current_trace_id, temporal_interceptors

log = get_logger("creditflow.telemetry")


def install_runtime(settings: Settings) -> bool:
    """Make a Temporal Runtime with a Prometheus endpoint the process default (before any connect).

    Returns True when metrics are on. Idempotent per process: a second call is a no-op.
    """
    if not settings.worker_metrics_port:
        return False
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    bind = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))
    try:
        Runtime.set_default(runtime, error_if_already_set=True)
    except RuntimeError:
        return True
    log.info("temporal_sdk_metrics", bind_address=bind)
    return True


def tracing_interceptors(settings: Settings) -> list[Any]:
    """temporalio's OpenTelemetry interceptor (service creditflow-worker) when tracing is on."""
    return temporal_interceptors(settings, WORKER_SERVICE)


class _ActivityLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        bound = {"workflow_id": info.workflow_id, "run_id": info.workflow_run_id,
                 "activity": info.activity_type, "attempt": info.attempt}
        trace_id = current_trace_id()  # set when the tracing interceptor runs outside this one
        if trace_id:
            bound["trace_id"] = trace_id
        start = time.perf_counter()
        with structlog.contextvars.bound_contextvars(**bound):
            try:
                result = await self.next.execute_activity(input)
            except Exception as err:
                log.warning("activity_failed", error_type=type(err).__name__,
                            seconds=round(time.perf_counter() - start, 4))
                raise
            if info.attempt > 1:  # a retry that succeeded is worth one line; first tries are not
                log.info("activity_recovered", seconds=round(time.perf_counter() - start, 4))
            return result


class LogContextInterceptor(Interceptor):
    """Worker interceptor: log lines written inside activities carry their workflow id."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLogContext(next)


def worker_interceptors(settings: Settings) -> list[Any]:
    """Tracing first: the first interceptor is the outermost, so the RunActivity span is current
    when the log context is bound and failure lines carry its trace_id."""
    return [*tracing_interceptors(settings), LogContextInterceptor()]
