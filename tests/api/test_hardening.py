"""API hardening against a real uvicorn server: body limits while streaming, per-subject rate
limits, security headers, request ids, the PII-free access log and Prometheus metrics.

The server here is the production app (create_app) on a loopback port, wired to the session's
real Temporal dev server and this test's database; no worker is needed because nothing here
waits for a workflow to progress.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from creditflow.api.app import create_app
from creditflow.api.middleware import (
    JSON_BODY_LIMIT,
    MULTIPART_OVERHEAD,
    RequestContextMiddleware,
    hash_subject,
    install_nlp_hardening,
    wrap_outermost,
)
from creditflow.api.ratelimit import RateLimiter, RateLimitSettings, is_limited, retry_after_header
from creditflow.demo import demo_cases
from creditflow.metrics import ApiMetrics
from tests.conftest import serve

CASE = demo_cases()[0]


@dataclass
class Api:
    url: str
    app: FastAPI


@pytest.fixture
def hardened(temporal_env, settings, db) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    app = create_app(settings, temporal=temporal_env.client, db=db)
    with serve(app, timeout=30) as url:
        yield Api(url, app)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(r: httpx.Response, status: int) -> bool:
    return (r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
            and r.json()["status"] == status)


async def create(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/v1/applications", json=CASE["body"], headers=auth(token))


# ---- body size ------------------------------------------------------------------------------


async def _raw_request(url: str, head: bytes, body_chunk: bytes = b"") -> bytes:
    """Send a request head (and optionally a first body chunk) on a raw socket; return what the
    server answers before we send anything else."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + body_chunk)
        await writer.drain()
        return await asyncio.wait_for(reader.read(-1), timeout=30)  # the server closes after 413
    finally:
        writer.close()


async def test_content_length_over_limit_is_refused_before_any_body_byte(hardened: Api, settings,  # type: ignore[no-untyped-def]
                                                                       tokens: dict[str, str]) -> None:
    # Announce 50 MB and send none of it: the answer can only come from the header check.
    for path, limit in (("/v1/applications", JSON_BODY_LIMIT),
                        ("/v1/applications/abc/documents", settings.max_upload_bytes + MULTIPART_OVERHEAD)):
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tokens['applicant']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
        answer = await _raw_request(hardened.url, head)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
        headers, _, body = rest.partition(b"\r\n\r\n")
        assert b"application/problem+json" in headers.lower()
        assert b"connection: close" in headers.lower()
        assert json.loads(body)["limit"] == limit


async def test_limit_is_per_path_json_1mib_uploads_larger(hardened: Api, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=hardened.url, timeout=60) as http:
        # 2 MiB of JSON: over the JSON limit although far under the upload limit.
        r = await http.post("/v1/applications", content=b" " * (2 * 1024 * 1024),
                            headers={**auth(tokens["applicant"]), "Content-Type": "application/json"})
        assert is_problem(r, 413)
        # Just under 1 MiB of JSON passes the size check and reaches validation.
        r = await http.post("/v1/applications", content=b"{" + b" " * (JSON_BODY_LIMIT - 10) + b"}",
                            headers={**auth(tokens["applicant"]), "Content-Type": "application/json"})
        assert is_problem(r, 422)


class Endless:
    """A body that would stream `total` bytes; records how much the client produced.

    Sent with the *synchronous* httpx client: it notices the server hanging up (write error)
    and then reads the answer already waiting in the socket. The asyncio client (anyio) does
    not read while it writes and drops what the kernel holds when the write fails, so it can
    only report a ReadError for any early answer; browsers and curl read while uploading.
    """

    def __init__(self, total: int, chunk: int = 64 * 1024, prefix: bytes = b"") -> None:
        self.total, self.chunk, self.produced, self.prefix = total, chunk, 0, prefix

    def __iter__(self) -> Iterator[bytes]:
        if self.prefix:
            self.produced += len(self.prefix)
            yield self.prefix
        while self.produced < self.total:
            self.produced += self.chunk
            yield b"a" * self.chunk


def _post_sync(url: str, body: Endless, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(timeout=120) as http:
        return http.post(url, content=body, headers=headers)


async def test_chunked_upload_is_stopped_at_the_limit_not_read_to_the_end(hardened: Api, settings,  # type: ignore[no-untyped-def]
                                                                        tokens: dict[str, str]) -> None:
    limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
    async with httpx.AsyncClient(base_url=hardened.url, timeout=120) as http:
        app_id = (await create(http, tokens["applicant"])).json()["id"]
    boundary = "b0undary"
    part_head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                 "Content-Type: text/plain\r\n\r\n").encode()
    body = Endless(total=20 * limit, prefix=part_head)  # 200+ MB if the server kept reading
    r = await asyncio.to_thread(
        _post_sync, f"{hardened.url}/v1/applications/{app_id}/documents", body,
        {**auth(tokens["applicant"]), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert is_problem(r, 413), (r.status_code, r.text)
    assert r.json()["limit"] == limit
    assert r.headers["connection"] == "close"
    # The client stopped soon after the limit (limit + bounded lingering drain): the server
    # hung up instead of reading the body to its end.
    assert limit < body.produced < 3 * limit, body.produced


async def test_chunked_json_over_limit_is_413_and_server_stays_healthy(hardened: Api,
                                                                      tokens: dict[str, str]) -> None:
    body = Endless(total=200 * JSON_BODY_LIMIT)
    r = await asyncio.to_thread(_post_sync, f"{hardened.url}/v1/applications", body,
                                {**auth(tokens["applicant"]), "Content-Type": "application/json"})
    assert is_problem(r, 413)
    assert body.produced < 20 * JSON_BODY_LIMIT
    async with httpx.AsyncClient(base_url=hardened.url, timeout=60) as http:
        assert (await create(http, tokens["applicant"])).status_code == 201


# ---- rate limiting ------------------------------------------------------------------------


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [1000.0]
    limiter = RateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.hit("alice").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.hit("alice")
    assert not refused.allowed and refused.retry_after_seconds == pytest.approx(1.0)
    assert limiter.hit("bob").allowed  # buckets are per subject
    now[0] += 1.0  # one token per second at 60/min
    assert limiter.hit("alice").allowed
    assert not limiter.hit("alice").allowed
    now[0] += 3600  # refill never exceeds the burst
    assert [limiter.hit("alice").allowed for _ in range(4)] == [True, True, True, False]


def test_bucket_eviction_and_disabled_limiter() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_subjects=2, clock=lambda: 0.0)
    for sub in ("a", "b", "c"):
        assert limiter.hit(sub).allowed
    assert not limiter.hit("c").allowed
    assert limiter.hit("a").allowed  # "a" was evicted (least recently used): fresh bucket
    off = RateLimiter(per_minute=1, burst=1, enabled=False)
    assert all(off.hit("x").allowed for _ in range(10))
    assert retry_after_header(0.01) == "1" and retry_after_header(2.2) == "3"


def test_rate_limit_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITFLOW_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("CREDITFLOW_RATE_LIMIT_BURST", "5")
    limiter = RateLimiter.from_settings()
    assert limiter.rate == pytest.approx(0.5) and limiter.burst == 5
    assert RateLimitSettings().per_minute == 30
    assert is_limited("POST", "/v1/applications") and is_limited("POST", "/v1/applications/x/submit")
    assert is_limited("POST", "/v1/applications/x/documents")
    assert not is_limited("GET", "/v1/applications") and not is_limited("POST", "/v1/review/tasks/x/claim")


async def test_submissions_are_rate_limited_per_subject_with_retry_after(hardened: Api,
                                                                         tokens: dict[str, str]) -> None:
    hardened.app.state.rate_limiter = RateLimiter(per_minute=1, burst=2)
    applicant = auth(tokens["applicant"])
    async with httpx.AsyncClient(base_url=hardened.url, timeout=60) as http:
        first = await create(http, tokens["applicant"])
        assert first.status_code == 201
        app_id = first.json()["id"]
        assert (await create(http, tokens["applicant"])).status_code == 201
        r = await create(http, tokens["applicant"])
        assert is_problem(r, 429), r.text
        assert int(r.headers["retry-after"]) >= 1 and r.json()["retry_after"] >= 1
        assert r.headers["x-content-type-options"] == "nosniff"
        # Submitting has its own bucket: creating many does not block submitting them.
        for _ in range(2):
            assert (await http.post(f"/v1/applications/{app_id}/submit", headers=applicant)).status_code == 202
        assert is_problem(await http.post(f"/v1/applications/{app_id}/submit", headers=applicant), 429)
        # Uploads are refused before the body is looked at once the (4 per application) bucket is empty.
        codes = [(await http.post(f"/v1/applications/{app_id}/documents", headers=applicant,
                                  files={"file": ("a.exe", b"MZ", "application/x-msdownload")})).status_code
                 for _ in range(9)]
        assert codes == [415] * 8 + [429]
        # Reads are not limited; another applicant has their own bucket; no token is 401, not 429.
        assert (await http.get("/v1/applications", headers=applicant)).status_code == 200
        assert (await create(http, tokens["applicant2"])).status_code == 201
        assert (await http.post("/v1/applications", json=CASE["body"])).status_code == 401
        assert (await http.post("/v1/applications", json=CASE["body"],
                                headers=auth(tokens["applicant"] + "x"))).status_code == 401


# ---- headers, request id, access log -------------------------------------------------------


async def test_security_headers_and_request_id_on_every_kind_of_answer(hardened: Api,
                                                                       tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=hardened.url, timeout=30) as http:
        answers = {
            "ok": await http.get("/healthz"),
            "list": await http.get("/v1/applications", headers=auth(tokens["applicant"])),
            "401": await http.get("/v1/applications"),
            "404": await http.get("/v1/applications/nope", headers=auth(tokens["applicant"])),
            "unknown": await http.get("/no/such/path"),
            "422": await http.post("/v1/applications", json={}, headers=auth(tokens["applicant"])),
        }
        for name, r in answers.items():
            assert r.headers["x-content-type-options"] == "nosniff", name
            assert r.headers["referrer-policy"] == "no-referrer", name
            assert len(r.headers["x-request-id"]) >= 8, name
        for name in ("list", "401", "404", "422"):
            assert answers[name].headers["cache-control"] == "no-store", name
        assert len({r.headers["x-request-id"] for r in answers.values()}) == len(answers)
        mine = await http.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
        assert mine.headers["x-request-id"] == "trace-1234abcd"
        hostile = await http.get("/healthz", headers={"X-Request-ID": "x\" injected=1 " + "y" * 100})
        assert hostile.headers["x-request-id"] != "x\" injected=1 " + "y" * 100
        assert hostile.headers["x-request-id"].isalnum()


async def test_unhandled_errors_still_get_headers_and_are_counted(settings, db) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, db=db)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals 123-45-6789")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.get("/boom")
    assert is_problem(r, 500) and "secret" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-request-id"]
    text = app.state.metrics.render()[0].decode()
    assert 'creditflow_http_requests_total{method="GET",route="/boom",status="500"} 1.0' in text


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    from creditflow.logs import configure_logging

    stream = io.StringIO()
    configure_logging("api", stream=stream)
    yield stream
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_creditflow_handler", False)]:
        root.removeHandler(h)


async def test_access_log_has_route_template_and_hashed_subject_only(hardened: Api, tokens: dict[str, str],
                                                                    log_lines: io.StringIO) -> None:
    async with httpx.AsyncClient(base_url=hardened.url, timeout=30) as http:
        app_id = (await create(http, tokens["applicant"])).json()["id"]
        r = await http.get(f"/v1/applications/{app_id}/evidence?email=alice@example.com",
                           headers={**auth(tokens["applicant"]), "X-Request-ID": "req-abcdef123"})
        assert r.status_code == 200
    # the server thread writes the line after the last response byte: the client can be faster
    for _ in range(100):
        records = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
        access = [rec for rec in records if rec.get("event") == "http_request"]
        mine = [rec for rec in access if rec.get("request_id") == "req-abcdef123"]
        if mine:
            break
        await asyncio.sleep(0.05)
    assert len(mine) == 1, access
    line = mine[0]
    assert line["route"] == "/v1/applications/{application_id}/evidence"
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert line["sub_hash"] == hash_subject("demo-applicant") != "demo-applicant"
    assert line["role"] == "applicant"
    raw = "\n".join(json.dumps(rec) for rec in records if rec.get("logger", "").startswith("creditflow"))
    for secret in (app_id, "alice@example.com", "demo-applicant\"", tokens["applicant"]):
        assert secret not in raw


# ---- metrics ------------------------------------------------------------------------------


async def test_metrics_endpoint_is_admin_only_and_counts_api_events(hardened: Api,
                                                                    tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=hardened.url, timeout=30) as http:
        assert is_problem(await http.get("/metrics"), 401)
        assert is_problem(await http.get("/metrics", headers=auth(tokens["applicant"])), 403)
        app_id = (await create(http, tokens["applicant"])).json()["id"]
        await create(http, tokens["applicant"])
        assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth(tokens["applicant"]))).status_code == 202
        await http.post("/v1/applications", json={}, headers=auth(tokens["applicant"]))  # 422: not an event
        r = await http.get("/metrics", headers=auth(tokens["admin"]))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
    assert "creditflow_applications_created_total 2.0" in text
    assert "creditflow_applications_submitted_total 1.0" in text
    assert 'creditflow_http_requests_total{method="POST",route="/v1/applications",status="201"} 2.0' in text
    assert 'creditflow_http_requests_total{method="POST",route="/v1/applications",status="422"} 1.0' in text
    assert 'route="/v1/applications/{application_id}/submit"' in text
    assert app_id not in text  # ids never become labels
    # business gauges read from the store at scrape time
    assert 'creditflow_applications{stage="awaiting_documents"}' in text
    assert "creditflow_http_request_duration_seconds_bucket" in text
    hardened.app.state.metrics_public = True
    assert httpx.get(f"{hardened.url}/metrics").status_code == 200


async def test_review_actions_counted_from_the_decision_body() -> None:
    app = FastAPI()
    metrics = ApiMetrics(process_metrics=False)

    @app.post("/v1/review/tasks/{task_id}/decision")
    async def decide(task_id: str, request: Request) -> dict[str, Any]:
        return {"ok": bool(await request.body())}

    @app.post("/v1/review/tasks/{task_id}/claim")
    async def claim(task_id: str) -> dict[str, Any]:
        return {}

    wrap_outermost(app, lambda inner: RequestContextMiddleware(inner, metrics=metrics))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for action in ("approve", "approve", "decline", "'; DROP", None):
            body = {"action": action, "comment": "ok"} if action else {"no": "action"}
            assert (await http.post("/v1/review/tasks/a1/decision", json=body)).status_code == 200
        await http.post("/v1/review/tasks/a1/claim")
    text = metrics.render()[0].decode()
    assert 'creditflow_review_actions_total{action="approve"} 2.0' in text
    assert 'creditflow_review_actions_total{action="decline"} 1.0' in text
    assert 'creditflow_review_actions_total{action="other"} 2.0' in text  # unknown / missing: bounded label
    assert 'creditflow_review_actions_total{action="claim"} 1.0' in text


async def test_nlp_hardening_helper_exposes_latency_histogram() -> None:
    app = FastAPI()

    @app.post("/v1/analyze")
    async def analyze(request: Request) -> dict[str, Any]:
        body = await request.json()
        with request.app.state.metrics.time_analysis("note", len(body["text"])):
            return {"kind": "note"}

    install_nlp_hardening(app, max_body_bytes=1000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.post("/v1/analyze", json={"text": "hello"})).status_code == 200
        assert is_problem(await http.post("/v1/analyze", json={"text": "x" * 2000}), 413)
        text = (await http.get("/metrics")).text
    assert 'creditflow_nlp_analyze_seconds_count{kind="note"} 1.0' in text
    assert "creditflow_nlp_analyzed_chars_total 5.0" in text
    assert 'creditflow_http_requests_total{method="POST",route="/v1/analyze",status="413"} 1.0' in text


def test_openapi_documents_problem_responses(settings, db) -> None:  # type: ignore[no-untyped-def]
    schema = create_app(settings, db=db).openapi()
    create_op = schema["paths"]["/v1/applications"]["post"]
    for code in ("422", "4XX"):
        content = create_op["responses"][code]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert create_op["security"] == [{"bearerAuth": []}]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "/metrics" not in schema["paths"]
