"""Prometheus metrics for the API and the NLP service, one registry per service instance.

Why a registry per instance (and not prometheus-client's global one): tests build several
apps in one process, and the API and the NLP service also share a process there; separate
registries keep their series apart and make counters start at zero for each app. In
production each process has exactly one app, so this changes nothing for a scraper.

Why labels are bounded: `route` is the path *template* (`/v1/applications/{application_id}`,
never the concrete id, and `<unmatched>` for 404s on unknown paths), `method` is one of the
standard verbs, and the review `action` is one of the fixed actions. A label that could take
a user-supplied value would let any caller grow the scrape without bound.

Nothing here knows about HTTP frameworks: the ASGI middleware (creditflow.api.middleware)
and the services call the `observe_*` / `record_*` methods.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

NAMESPACE = "creditflow"
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REVIEW_ACTIONS = frozenset({"claim", "release", "approve", "decline", "counteroffer", "request_info"})
UNMATCHED_ROUTE = "<unmatched>"
# Seconds: API calls are ~ms (DB) to ~s (Temporal updates, uploads with NLP pre-analysis).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# NLP analysis: tens of ms for a note, up to seconds for a long document on 2 cores.
NLP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _method_label(method: str) -> str:
    m = method.upper()
    return m if m in STANDARD_METHODS else "OTHER"


if TYPE_CHECKING:
    from creditflow.store.db import Database


class ServiceMetrics:
    """HTTP request counter and latency histogram for one service, in its own registry."""

    def __init__(self, service: str, *, process_metrics: bool = True) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"], namespace=NAMESPACE, registry=self.registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds", "Time from request start to the last response byte.",
            ["route", "method"], namespace=NAMESPACE, registry=self.registry, buckets=HTTP_BUCKETS,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        m = _method_label(method)
        self.http_requests.labels(route=route, method=m, status=str(status)).inc()
        self.http_duration.labels(route=route, method=m).observe(max(0.0, seconds))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for a /metrics endpoint."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ApiMetrics(ServiceMetrics):
    """API metrics plus counters of the business events the API accepts."""

    def __init__(self, *, process_metrics: bool = True) -> None:
        super().__init__("api", process_metrics=process_metrics)
        self.applications_created = Counter(
            "applications_created_total",
            "Applications accepted by POST /v1/applications (201; idempotent replays included).",
            namespace=NAMESPACE, registry=self.registry,
        )
        self.documents_uploaded = Counter(
            "documents_uploaded_total", "Documents accepted by the upload endpoint (201).",
            namespace=NAMESPACE, registry=self.registry,
        )
        self.applications_submitted = Counter(
            "applications_submitted_total", "Submissions accepted (202).",
            namespace=NAMESPACE, registry=self.registry,
        )
        self.review_actions = Counter(
            "review_actions_total", "Officer review actions accepted, by action.",
            ["action"], namespace=NAMESPACE, registry=self.registry,
        )
        self.rate_limited = Counter(
            "rate_limited_total", "Requests refused with 429, by route template.",
            ["route"], namespace=NAMESPACE, registry=self.registry,
        )
        self.bodies_too_large = Counter(
            "request_bodies_too_large_total", "Requests refused with 413 by the body-size limit.",
            namespace=NAMESPACE, registry=self.registry,
        )

    def record_review_action(self, action: str) -> None:
        self.review_actions.labels(action=action if action in REVIEW_ACTIONS else "other").inc()

    def record_api_event(self, route: str, method: str, status: int, review_action: str | None = None) -> None:
        """Count the business event a successful request stands for (called by the middleware)."""
        if method != "POST" or not 200 <= status < 300:
            return
        if route == "/v1/applications":
            self.applications_created.inc()
        elif route.endswith("/documents"):
            self.documents_uploaded.inc()
        elif route.endswith("/submit"):
            self.applications_submitted.inc()
        elif route.startswith("/v1/review/tasks/"):
            tail = route.rsplit("/", 1)[-1]
            if tail in ("claim", "release"):
                self.record_review_action(tail)
            elif tail == "decision":
                self.record_review_action(review_action or "other")


class NlpMetrics(ServiceMetrics):
    """NLP service metrics: HTTP plus the analysis latency per kind (document / note)."""

    def __init__(self, *, process_metrics: bool = True) -> None:
        super().__init__("nlp", process_metrics=process_metrics)
        self.analyze_seconds = Histogram(
            "nlp_analyze_seconds", "Time spent in creditflow.nlp.analyze, by resolved kind.",
            ["kind"], namespace=NAMESPACE, registry=self.registry, buckets=NLP_BUCKETS,
        )
        self.analyze_chars = Counter(
            "nlp_analyzed_chars_total", "Characters of text analysed.",
            namespace=NAMESPACE, registry=self.registry,
        )

    def observe_analysis(self, kind: str, seconds: float, chars: int = 0) -> None:
        label = kind if kind in ("document", "note", "auto") else "other"
        self.analyze_seconds.labels(kind=label).observe(max(0.0, seconds))
        if chars > 0:
            self.analyze_chars.inc(chars)

    @contextmanager
    def time_analysis(self, kind: str, chars: int = 0) -> Iterator[None]:
        """`with metrics.time_analysis("note", len(text)): analyze(...)` records the latency."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe_analysis(kind, time.perf_counter() - start, chars)


class StoreCollector:
    """Business gauges read from the database at scrape time: applications by stage and decisions by
    kind and outcome. Reading at scrape time keeps them right across API replicas and restarts."""

    def __init__(self, db: "Database") -> None:
        self.db = db

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select

        from creditflow.store.models import Application, DecisionRecord

        stages = GaugeMetricFamily(f"{NAMESPACE}_applications", "Applications by current stage.", labels=["stage"])
        decisions = GaugeMetricFamily(f"{NAMESPACE}_decisions", "Recorded decision steps by kind and outcome.",
                                      labels=["kind", "outcome"])
        try:
            with self.db.session() as s:
                for stage, n in s.execute(select(Application.stage, func.count()).group_by(Application.stage)):
                    stages.add_metric([stage], n)
                for kind, outcome, n in s.execute(select(DecisionRecord.kind, DecisionRecord.outcome, func.count())
                                                  .group_by(DecisionRecord.kind, DecisionRecord.outcome)):
                    decisions.add_metric([kind, outcome], n)
        except Exception:  # database down: the scrape still answers with the process metrics
            return
        yield stages
        yield decisions
