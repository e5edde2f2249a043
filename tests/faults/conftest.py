"""A real stack for fault injection: Temporal dev server, NLP service, worker and API as separate
processes on free loopback ports (the commands `creditflow up` runs, from `up.stack_commands`),
plus a TCP proxy in front of PostgreSQL that a test can cut to make the database unreachable.

Why our own launcher instead of `up.start`: faults need to kill, stop and restart ONE process at a
time and to start extra processes (a PostgreSQL-backed API + worker on their own task queue) with
their own environment. Health checks reuse `up._healthy`. Nothing here is mocked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from creditflow.config import Settings
from creditflow.up import Proc, _healthy, stack_commands
from tests.conftest import free_port

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TERMINAL = {"approved", "declined", "withdrawn_incomplete", "counteroffered"}


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Managed:
    """One child process of the fault stack, restartable with the same argv and environment."""

    proc: Proc
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.proc.name

    def start(self, timeout: float = 180.0) -> None:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} already running"
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(self.proc.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                          start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.popen.returncode}:\n{self.tail()}")
            if self.proc.health == "worker":
                if _worker_polls(self.env, self.popen.pid):
                    break
            elif _healthy(self.proc):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group: no cleanup, no graceful worker shutdown."""
        assert self.popen is not None
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=30)

    def stop(self, grace: float = 15.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # children of the group (the Temporal UI server) go too
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait(timeout=30)

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except FileNotFoundError:
            return ""


def _worker_polls(env: dict[str, str], pid: int) -> bool:
    """True when Temporal lists a poller on the worker's task queue whose identity is THIS process
    (the SDK's default identity is `pid@host`). A killed worker's poller stays listed for a while,
    so "any poller" would call a dead worker healthy."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    async def check() -> bool:
        client = await Client.connect(env["CREDITFLOW_TEMPORAL_ADDRESS"])
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=env["CREDITFLOW_TASK_QUEUE"]),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
        return any(p.identity.startswith(f"{pid}@") for p in resp.pollers)

    box: list[bool] = []

    def run() -> None:
        try:
            box.append(asyncio.run(check()))
        except Exception:
            box.append(False)

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    return bool(box and box[0])


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CREDITFLOW_ENV": "test", "CREDITFLOW_VAR_DIR": str(settings.var_dir),
        "CREDITFLOW_NLP_URL": settings.nlp_url, "CREDITFLOW_NLP_PORT": str(settings.nlp_port),
        "CREDITFLOW_TEMPORAL_ADDRESS": settings.temporal_address, "CREDITFLOW_API_PORT": str(settings.api_port),
        "CREDITFLOW_API_HOST": settings.api_host, "CREDITFLOW_TEMPORAL_UI_URL": settings.temporal_ui_url,
        "CREDITFLOW_PUBLIC_API_URL": settings.public_api_url, "CREDITFLOW_TASK_QUEUE": settings.task_queue,
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    })
    env.pop("CREDITFLOW_DATABASE_URL", None)
    if settings.database_url:
        env["CREDITFLOW_DATABASE_URL"] = settings.database_url
    env.update(extra)
    return env


class TcpProxy:
    """A loopback TCP forwarder; `cut()` closes the listener and every open connection so the
    client sees the database as unreachable (connection refused / reset), `restore()` listens again
    on the same port. Used to take PostgreSQL away from one process without touching the server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            try:  # wakes the thread blocked in accept() so the port is really released
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@dataclass
class FaultStack:
    settings: Settings
    var: Path
    procs: dict[str, Managed]
    api: str
    tokens: dict[str, str]
    pg: dict[str, Any] | None = None  # {"api": url, "settings": Settings, "proxy": TcpProxy, "procs": {...}}
    worker_metrics: str = ""  # the worker's Temporal SDK Prometheus endpoint

    def ensure_up(self) -> None:
        """Restart whatever an earlier (failed) test left dead, so tests stay independent."""
        for m in self.procs.values():
            if not m.alive():
                m.start()
        if self.pg:
            if not self.pg["proxy"].listening:
                self.pg["proxy"].restore()
            for m in self.pg["procs"].values():
                if not m.alive():
                    m.start()


def _settings(var: Path, **over: Any) -> Settings:
    ports = {"api": free_port(), "nlp": free_port(), "temporal": free_port(), "ui": free_port()}
    base: dict[str, Any] = dict(
        env="test", var_dir=var, api_port=ports["api"], nlp_port=ports["nlp"],
        nlp_url=f"http://127.0.0.1:{ports['nlp']}", temporal_address=f"127.0.0.1:{ports['temporal']}",
        temporal_ui_url=f"http://127.0.0.1:{ports['ui']}", public_api_url=f"http://127.0.0.1:{ports['api']}",
    )
    base.update(over)
    return Settings(**base)


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    from creditflow.demo import demo_tokens
    from creditflow.store.migrate import upgrade

    var = tmp_path_factory.mktemp("faults-var")
    settings = _settings(var)
    upgrade(settings)
    metrics_port = free_port()
    env = _env(settings, CREDITFLOW_WORKER_METRICS_PORT=str(metrics_port))
    logs = var / "logs"
    logs.mkdir()
    procs = {p.name: Managed(p, env, logs / f"{p.name}.log") for p in stack_commands(settings)}
    started: list[Managed] = []
    pg_procs: dict[str, Managed] = {}
    proxy: TcpProxy | None = None
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    try:
        for m in procs.values():
            m.start()
            started.append(m)
        pg = None
        if pg_available():
            pg = _start_pg_side(settings, var, schema, pg_procs)
            proxy = pg["proxy"]
        api = f"http://127.0.0.1:{settings.api_port}"
        yield FaultStack(settings=settings, var=var, procs=procs, api=api, tokens=demo_tokens(settings), pg=pg,
                         worker_metrics=f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        for m in [*pg_procs.values(), *reversed(started)]:
            m.stop()
        if proxy is not None:
            proxy.cut()
        if pg_procs:
            _drop_schema(schema)


def _start_pg_side(settings: Settings, var: Path, schema: str, out: dict[str, Managed]) -> dict[str, Any]:
    """An API and a worker on PostgreSQL (a fresh schema reached through a cuttable proxy), on their
    own task queue, sharing the stack's Temporal server, NLP service and keys."""
    import sqlalchemy as sa

    from creditflow.store.migrate import upgrade

    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    direct = f"{PG_URL}?options=-csearch_path%3D{schema}"
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.restore()
    via_proxy = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}"
    api_port = free_port()
    pg_settings = settings.model_copy(update={
        "database_url": via_proxy, "api_port": api_port, "public_api_url": f"http://127.0.0.1:{api_port}",
        "task_queue": f"faults-pg-{schema}",
    })
    upgrade(settings.model_copy(update={"database_url": direct}))
    env = _env(pg_settings)
    cf = [sys.executable, "-m", "creditflow.cli"]
    logs = var / "logs"
    out["worker"] = Managed(Proc("pg-worker", cf + ["worker"], "worker"), env, logs / "pg-worker.log")
    out["api"] = Managed(Proc("pg-api", cf + ["api"], f"http:http://127.0.0.1:{api_port}/healthz"), env,
                         logs / "pg-api.log")
    for m in out.values():
        m.start()
    return {"api": f"http://127.0.0.1:{api_port}", "settings": pg_settings, "proxy": proxy, "procs": out,
            "direct_url": direct, "schema": schema}


def _drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    eng.dispose()


@pytest.fixture
def stack(fault_stack: FaultStack) -> FaultStack:
    fault_stack.ensure_up()
    return fault_stack


# ---------------------------------------------------------------- HTTP helpers used by the tests
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_stage(http: httpx.AsyncClient, token: str, app_id: str, stages: set[str],
                     timeout: float = 150.0) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            r = await http.get(f"/v1/applications/{app_id}", headers=auth(token))
            if r.status_code == 200:
                body = r.json()
                if body["stage"] in stages and body.get("live", True):
                    return body
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{app_id} did not reach {stages} in {timeout:.0f}s: {body.get('stage')} {body}")
