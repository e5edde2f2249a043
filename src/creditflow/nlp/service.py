"""The NLP HTTP service (DESIGN.md: `creditflow nlp`, default http://127.0.0.1:8081).

Endpoints: POST /v1/analyze, POST /v1/extract, GET /healthz, GET /metrics.
Why a thin layer: all behaviour lives in creditflow.nlp (analyze, extract_text); this
module maps it to HTTP — sizes to 413, types to 415, bad bodies to 422, every error as
application/problem+json — and runs the CPU-bound pipeline in a threadpool so the event
loop keeps answering health checks while a large document is analysed.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import creditflow.nlp as nlp
from creditflow import tracing
from creditflow.config import Settings, get_settings
from creditflow.nlp.contract import Analysis, AnalyzeRequest
from creditflow.nlp.errors import ExtractionError, OcrUnavailable, TextTooLarge, UnsupportedMediaType

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: Any = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class _Metrics:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.docs = 0
        self.seconds = 0.0

    def render(self) -> str:
        return (f"creditflow_nlp_requests_total {self.requests}\ncreditflow_nlp_errors_total {self.errors}\n"
                f"creditflow_nlp_analyzed_texts_total {self.docs}\ncreditflow_nlp_analyze_seconds_total {self.seconds:.6f}\n"
                f"creditflow_nlp_pipeline_loaded {int(nlp.pipeline_loaded())}\n")


def create_app(settings: Settings | None = None, *, preload: bool = True) -> FastAPI:
    """The service app; with `preload` the pipeline is loaded at startup (healthz is 503 until then)."""
    settings = settings or get_settings()
    metrics = _Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            await run_in_threadpool(nlp.warm_up)
        yield

    app = FastAPI(title="creditflow NLP", version=nlp.model_version(), lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.errors += 1
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return problem(422, "Invalid request body", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - bugs only
        metrics.errors += 1
        return problem(500, "Internal error", exc.__class__.__name__)

    @app.post("/v1/analyze", response_model=Analysis, responses={413: {}, 422: {}}, openapi_extra={
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": AnalyzeRequest.model_json_schema()}}}})
    async def analyze(request: Request) -> Any:
        metrics.requests += 1
        limit = settings.max_nlp_chars
        raw = await request.body()
        # 4 bytes per char at most in UTF-8, plus JSON overhead: refuse obviously huge bodies before parsing
        if len(raw) > limit * 6 + 4096:
            return problem(413, "Text too large", f"request body of {len(raw)} bytes; the limit is {limit} characters")
        try:
            req = AnalyzeRequest.model_validate_json(raw)
        except ValueError as exc:
            metrics.errors += 1
            errs = getattr(exc, "errors", lambda: [])()
            return problem(422, "Invalid request body",
                           errors=[{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                                   for e in errs])
        if len(req.text) > limit:
            return problem(413, "Text too large", f"text has {len(req.text)} characters; the limit is {limit}")
        t0 = time.perf_counter()
        try:
            result = await run_in_threadpool(nlp.analyze, req.text, req.kind)
        except TextTooLarge as exc:
            return problem(413, "Text too large", str(exc))
        metrics.docs += 1
        metrics.seconds += time.perf_counter() - t0
        return JSONResponse(result.model_dump(mode="json"))

    @app.post("/v1/extract", responses={413: {}, 415: {}, 422: {}})
    async def extract(request: Request) -> Any:
        from creditflow.nlp.extract import extract_text

        metrics.requests += 1
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
            return problem(413, "Document too large", f"the limit is {settings.max_upload_bytes} bytes")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > settings.max_upload_bytes:
                return problem(413, "Document too large", f"the limit is {settings.max_upload_bytes} bytes")
        if not data:
            return problem(422, "Empty body", "send the document bytes with their Content-Type")
        media_type = request.headers.get("content-type", "")
        try:
            out = await run_in_threadpool(extract_text, bytes(data), media_type)
        except UnsupportedMediaType as exc:
            return problem(415, "Unsupported media type", str(exc))
        except OcrUnavailable as exc:
            metrics.errors += 1
            return problem(503, "OCR unavailable", str(exc))
        except ExtractionError as exc:
            return problem(422, "Unreadable document", str(exc))
        return out.as_dict()

    @app.get("/healthz")
    async def healthz() -> Response:
        if not nlp.pipeline_loaded():
            return problem(503, "Pipeline loading")
        return JSONResponse({"status": "ok", "model_version": nlp.model_version()})

    @app.get("/metrics")
    async def metrics_endpoint() -> PlainTextResponse:
        return PlainTextResponse(metrics.render())

    tracing.instrument_app(app, settings, tracing.NLP_SERVICE)  # continues the caller's traceparent
    return app


def main() -> None:  # pragma: no cover - exercised by `creditflow nlp`
    import uvicorn

    s = get_settings()
    uvicorn.run(create_app(s), host=s.nlp_host, port=s.nlp_port, log_level="info")


if __name__ == "__main__":  # pragma: no cover
    main()
