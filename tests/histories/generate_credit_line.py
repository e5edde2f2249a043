"""Regenerate tests/histories/credit_line_*.json from a real run (on purpose only).

Run: .venv/bin/python tests/histories/generate_credit_line.py
A time-skipping test server runs one credit line for 40 simulated days with the real
servicing activities (the NLP service, an outside service, answers with a canned analysis):
a draw, a payment, gambling transactions (watch list + re-score), a note, a missed
installment (reminder), and the continue-as-new that ends the run. The first run's history
is written; tests/creditline/test_replay.py replays it against the current workflow code, so
a non-deterministic change fails there before it reaches a live line. Regenerate only when a
change is deliberately incompatible (and use workflow.patched() for live lines instead).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from creditflow.activities.servicing import SERVICING_ACTIVITIES
from workflows import search_attributes
from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import (
    CreditLineInput, Draw, NoteAdded, NoteAnalysisRequest, NoteAnalysisResult, NoteSignal, PlanTerms,
    RepaymentPosted, TransactionObserved,
)

HERE = Path(__file__).resolve().parent
OUT = HERE / "credit_line_first_run.json"


@activity.defn(name="analyze_servicing_note")
async def canned_note(request: NoteAnalysisRequest) -> NoteAnalysisResult:
    return NoteAnalysisResult(note_id=request.note_id, model_version="canned", signals=[NoteSignal(
        note_id=request.note_id, code="INCOME_INSTABILITY", polarity="affirmed", subject="applicant",
        severity="medium", start=0, end=len(request.text), observed_on=request.observed_on)])


async def generate(suffix: str = "") -> Path:
    activities = [a for a in SERVICING_ACTIVITIES if a.__name__ != "analyze_servicing_note"] + [canned_note]
    server = Path(sys.executable).parent / "temporal-test-server"
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(server),
                                                        data_converter=pydantic_data_converter)
    try:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in search_attributes.ALL}))
        async with Worker(env.client, task_queue="credit-line-history", workflows=[CreditLineWorkflow],
                          activities=activities):
            today: date = (await env.get_current_time()).date()
            inp = CreditLineInput(application_id="history-1", product="consumer_installment", credit_limit=3000.0,
                                  grade="B", score=600.0, opened_on=today, evaluations_per_run=40,
                                  plans=[PlanTerms(term_months=12, apr=16.0)])
            handle = await env.client.start_workflow(CreditLineWorkflow.run, inp, id="credit-line-history-1",
                                                     task_queue="credit-line-history",
                                                     search_attributes=search_attributes.line_at_start())
            first_run = handle.result_run_id
            await handle.execute_update(CreditLineWorkflow.draw, Draw(draw_id="d1", amount=1200.0, term_months=12))
            await handle.signal(CreditLineWorkflow.repayment_posted,
                                RepaymentPosted(payment_id="p1", amount=50.0, posted_on=today))
            for k, merchant in enumerate(["Lucky Star Casino", "BetFair", "Poker Palace"]):
                await handle.signal(CreditLineWorkflow.transaction_observed, TransactionObserved(
                    txn_id=f"t{k}", merchant=merchant, amount=60.0, observed_on=today))
            await handle.signal(CreditLineWorkflow.note_added, NoteAdded(note_id="n1", text="Hours were cut."))
            await env.sleep(timedelta(days=41))
            state = await handle.query(CreditLineWorkflow.status)
            assert state.counters.runs == 2 and state.watch_list, state.counters
            history = await env.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
            await handle.terminate("history generated")
    finally:
        await env.shutdown()
    out = OUT.with_name(f"{OUT.stem}{suffix}.json")
    out.write_text(history.to_json())
    return out


if __name__ == "__main__":
    # Older histories stay committed (they prove patched changes still replay): record new ones
    # next to them with a suffix, e.g. `generate_credit_line.py _v2`.
    print(asyncio.run(generate(sys.argv[1] if len(sys.argv) > 1 else "")))
