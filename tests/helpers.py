"""Test helpers that create applications the way the API does (store + blobs), without HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from creditflow.config import Settings
from creditflow.schemas import ApplicationCreate
from creditflow.store import repo
from creditflow.store.blobs import BlobStore
from creditflow.store.db import Database
from workflows.credit_application import CreditApplicationWorkflow
from workflows.credit_application_types import ApplicationInput, ApplicationStatus, DocumentAdded, SubmitInput
from workflows.search_attributes import application_at_start


def store_application(settings: Settings, db: Database, body: dict[str, Any], documents: list[str],
                      owner: str = "applicant-1") -> tuple[str, list[DocumentAdded]]:
    blobs = BlobStore(settings.blob_dir)
    with db.session() as s:
        app, _ = repo.create_application(s, owner, ApplicationCreate.model_validate(body), uuid.uuid4().hex)
        app_id = app.id
        docs = []
        for i, text in enumerate(documents):
            data = text.encode()
            sha = blobs.put(data)
            doc_id = repo.add_document(s, app_id, sha, "text/plain", len(data), f"doc{i}.txt")
            docs.append(DocumentAdded(document_id=doc_id, sha256=sha))
    return app_id, docs


async def start_application(client: Client, settings: Settings, db: Database, case: dict[str, Any],
                            task_queue: str, submit: bool = True, **inp_over: Any) -> tuple[str, WorkflowHandle]:
    app_id, docs = store_application(settings, db, case["body"], case["documents"])
    body = case["body"]
    inp = ApplicationInput(application_id=app_id, product=body["product"], requested_amount=body["requested_amount"],
                           term_months=body["term_months"], note_count=len(body.get("notes", [])), **inp_over)
    handle = await client.start_workflow(CreditApplicationWorkflow.run, inp, id=f"application-{app_id}",
                                         task_queue=task_queue,  # indexed at start, as the API does
                                         search_attributes=application_at_start(inp.product, inp.requested_amount))
    for d in docs:
        await handle.signal(CreditApplicationWorkflow.document_added, d)
    if submit:
        await handle.signal(CreditApplicationWorkflow.submit, SubmitInput())
    return app_id, handle


async def wait_stage(handle: WorkflowHandle, stages: set[str], timeout: float = 120) -> ApplicationStatus:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        st = await handle.query(CreditApplicationWorkflow.status)
        if st.stage in stages:
            return st
        if loop.time() > deadline:
            raise AssertionError(f"stage {st.stage} never reached {stages}")
        await asyncio.sleep(0.2)


@contextlib.contextmanager
def captured_logs(service: str, level: str = "INFO") -> Iterator[io.StringIO]:
    """Configure creditflow's JSON logging into a buffer for the block, then put the root logger
    and structlog back as they were (tests that read log lines share this)."""
    import logging

    import structlog

    from creditflow.logs import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(service, level, stream=stream)
    try:
        yield stream
    finally:
        for h in list(root.handlers):
            if h not in saved_handlers:
                root.removeHandler(h)
        root.setLevel(saved_level)
        structlog.reset_defaults()


def history_indexing(path: Path) -> tuple[set[str], list[tuple[int, set[str]]]]:
    """A committed history's search attributes: the keys its run was started with, and for each upsert
    the workflow task that made it (its completed event id) with the keys it wrote."""
    events = json.loads(path.read_text())["events"]
    start = events[0]["workflowExecutionStartedEventAttributes"].get("searchAttributes") or {}
    upserts = [(int(a["workflowTaskCompletedEventId"]), set(a["searchAttributes"]["indexedFields"]))
               for e in events if (a := e.get("upsertWorkflowSearchAttributesEventAttributes"))]
    return set(start.get("indexedFields", {})), upserts
