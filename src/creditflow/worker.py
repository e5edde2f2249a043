"""The worker process: hosts both workflows and all activities on task queue `credit-approval`."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from creditflow.activities.application import ApplicationActivities
from creditflow.config import Settings
from creditflow.store.db import Database


def workflows_list() -> list[type]:
    from workflows.credit_application import CreditApplicationWorkflow
    from workflows.credit_line import CreditLineWorkflow

    return [CreditApplicationWorkflow, CreditLineWorkflow]


def activities_list(settings: Settings, db: Database, http: httpx.AsyncClient | None = None) -> list:
    from creditflow.activities.servicing import SERVICING_ACTIVITIES

    return ApplicationActivities(settings, db, http).all() + list(SERVICING_ACTIVITIES)


def build_worker(client: Client, settings: Settings, db: Database, task_queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=workflows_list(),
        activities=activities_list(settings, db),
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_concurrent_activities=32,
    )


async def run_worker(settings: Settings) -> None:
    from creditflow.temporal_client import connect

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
