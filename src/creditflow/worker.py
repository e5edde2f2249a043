"""The worker process: hosts both workflows and all activities on task queue `credit-approval`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker

from creditflow.activities.application import ApplicationActivities, worker_nlp_client
from creditflow.config import Settings
from creditflow.nlp_client import NlpClient
from creditflow.store.db import Database


def workflows_list() -> list[type]:
    from workflows.credit_application import CreditApplicationWorkflow
    from workflows.credit_line import CreditLineWorkflow

    return [CreditApplicationWorkflow, CreditLineWorkflow]


def cache_workflow_bytecode() -> bool:
    """Byte-compile the workflow modules into __pycache__ once per worker start.

    Why: the workflow sandbox re-imports a workflow's module for every workflow run it starts (and
    every replay after a cache eviction). With PYTHONDONTWRITEBYTECODE set, as in many containers and
    on our CI machines, no .pyc existed and each run compiled the module source again: 11% of the
    worker's CPU under load (py-spy, benchmarks/RESULTS.md). py_compile writes the cache whatever that
    flag says; on a read-only tree this returns False and the sandbox compiles as before.
    """
    import compileall
    from pathlib import Path

    import workflows

    return bool(compileall.compile_dir(str(Path(workflows.__file__).parent), maxlevels=0, quiet=2))


def activities_list(settings: Settings, db: Database, nlp: NlpClient | None = None) -> list:
    from creditflow.activities.servicing import ServicingActivities

    return ApplicationActivities(settings, db, nlp).all() + ServicingActivities(settings, db).all()


@asynccontextmanager
async def _closing(nlp: NlpClient) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await nlp.aclose()


def build_worker(client: Client, settings: Settings, db: Database, task_queue: str | None = None) -> Worker:
    """The worker with tuning from settings (CREDITFLOW_WORKER_*; see docs/OPERATIONS.md). Its activities'
    NLP client is closed when the worker stops (a plugin's run context: also on a fatal error)."""
    from datetime import timedelta

    from creditflow.telemetry import worker_interceptors

    cache_workflow_bytecode()
    nlp = worker_nlp_client(settings)
    extra: dict[str, object] = {}
    if not settings.worker_workflow_sandbox:
        from temporalio.worker import UnsandboxedWorkflowRunner

        extra["workflow_runner"] = UnsandboxedWorkflowRunner()
    if settings.worker_max_concurrent_workflow_tasks:
        extra["max_concurrent_workflow_tasks"] = settings.worker_max_concurrent_workflow_tasks
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=workflows_list(),
        activities=activities_list(settings, db, nlp),
        activity_executor=ThreadPoolExecutor(max_workers=max(32, settings.worker_max_concurrent_activities)),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.worker_sticky_schedule_to_start_seconds),
        max_concurrent_workflow_task_polls=settings.worker_max_concurrent_workflow_task_polls,
        max_concurrent_activity_task_polls=settings.worker_max_concurrent_activity_task_polls,
        interceptors=worker_interceptors(settings),
        plugins=[SimplePlugin("creditflow.nlp-client", run_context=lambda: _closing(nlp))],
        **extra,  # type: ignore[arg-type]
    )


async def run_worker(settings: Settings) -> None:
    from creditflow.telemetry import install_runtime
    from creditflow.temporal_client import connect

    install_runtime(settings)  # before connecting: the client binds to the default Runtime
    db = Database(settings.db_url)
    client = await connect(settings, retries=30)
    worker = build_worker(client, settings, db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()
    db.dispose()
