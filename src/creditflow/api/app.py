"""The API process: applicant and officer endpoints, the officer console and the codec server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from temporalio.client import Client

from creditflow import tracing
from creditflow.api.middleware import install_hardening
from creditflow.api.problems import install_problem_handlers
from creditflow.config import Settings, get_settings
from creditflow.security.tokens import TokenService
from creditflow.store.blobs import BlobStore
from creditflow.store.db import Database


def create_app(settings: Settings | None = None, temporal: Client | None = None,
               db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.ensure_var()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        from creditflow.api.routes.applications import close_nlp_client

        await close_nlp_client(app)
        if owns_db:
            app.state.db.dispose()

    owns_db = db is None
    app = FastAPI(
        title="creditflow API",
        version="0.1.0",
        description="Credit applications, documents, officer review, evidence and the Temporal codec server.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.db_url)
    app.state.blobs = BlobStore(settings.blob_dir)
    app.state.tokens = TokenService(settings)
    # traced (start/signal/update spans parent the workflow's) when CREDITFLOW_OTEL_ENABLED=true
    app.state.temporal = tracing.traced_client(temporal, settings) if temporal is not None else None
    install_problem_handlers(app)

    from creditflow.api.routes import applications, codec, health, lines, portfolio, review

    app.include_router(health.router)
    app.include_router(applications.router)
    app.include_router(review.router)
    app.include_router(lines.router)
    app.include_router(portfolio.router)
    app.include_router(codec.router)
    codec.codec_cors(app, settings)
    try:
        from creditflow.api.routes import console

        app.include_router(console.router)
    except ImportError:
        pass
    install_hardening(app, settings)
    from creditflow.metrics import StoreCollector

    app.state.metrics.registry.register(StoreCollector(app.state.db))
    tracing.instrument_app(app, settings, tracing.API_SERVICE)  # last: the span wraps every layer
    return app
