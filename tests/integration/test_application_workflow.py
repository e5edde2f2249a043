"""CreditApplicationWorkflow on a real Temporal dev server with the production activities,
the real NLP service over HTTP, the real decision engine and a real (SQLite) database."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from creditflow.demo import demo_cases
from creditflow.ledger.verify import verify_log
from creditflow.store import repo
from tests.helpers import start_application, wait_stage
from workflows.credit_application import CreditApplicationWorkflow
from workflows.credit_application_types import ClaimInput, DecideInput

CASES = {c["label"]: c for c in demo_cases()}


async def test_clear_cut_application_is_approved_automatically(temporal_env, worker, settings, db, task_queue):
    app_id, handle = await start_application(temporal_env.client, settings, db, CASES["clear approval"], task_queue)
    result = await handle.result()
    assert result.stage == "approved", result.model_dump()
    d = result.decision
    assert d is not None and d.decided_by == "auto" and d.grade in {"A", "B", "C", "D", "E"}
    assert d.credit_limit and 0 < d.credit_limit <= 2000
    assert sorted(p["term_months"] for p in d.plans) == [3, 6, 12, 24]
    assert all(p["apr"] <= 24 for p in d.plans)
    assert len(d.policy_version) == 64
    # every document went through the NLP service and was classified
    assert {r.facts.doc_type for r in result.analyzed_documents} == {"id_document", "pay_stub", "bank_statement"}
    # persisted for the API, recorded in the evidence log, and the log verifies
    with db.session() as s:
        app = repo.get_application(s, app_id)
        assert app is not None and app.stage == "approved" and app.decision["outcome"] == "approve"
        assert any(n.kind == "decision_approved" for n in repo.notices_for(s, app_id))
    from creditflow.ledger.log import EvidenceLog

    bundle = EvidenceLog(db, settings).evidence_bundle(app_id)
    stages = [r["stage"] for r in bundle["records"]]
    assert "policy" in stages and "approved" in stages
    auto = next(r for r in bundle["records"] if r["stage"] == "policy")
    inputs = auto["record"]["inputs"]
    assert any(k.startswith("document:") for k in inputs) and "features" in inputs
    assert verify_log(db, settings).ok
    assert result.credit_line_workflow_id == f"credit-line-{app_id}"


async def test_weak_application_is_declined_with_reasons(temporal_env, worker, settings, db, task_queue):
    _, handle = await start_application(temporal_env.client, settings, db, CASES["decline"], task_queue)
    result = await handle.result()
    assert result.stage == "declined"
    assert result.decision is not None and 1 <= len(result.decision.reasons) <= 4
    assert all(r["code"] and r["text"] for r in result.decision.reasons)
    # the payday-loan / missed payment note was read and counted
    codes = {s.code for s in result.risk_signals if s.polarity == "affirmed" and s.subject == "applicant"}
    assert "HIGH_COST_BORROWING" in codes


async def test_missing_document_requests_information(temporal_env, worker, settings, db, task_queue):
    _, handle = await start_application(temporal_env.client, settings, db,
                                        CASES["incomplete (bank statement missing)"], task_queue)
    st = await wait_stage(handle, {"info_requested"})
    assert any("bank_statement" in item for item in st.info_requested)
    assert st.info_deadline is not None
    await handle.terminate("test done")


async def test_referral_is_worked_by_an_officer_with_validators(temporal_env, worker, settings, db, task_queue):
    _, handle = await start_application(temporal_env.client, settings, db, CASES["referral to officer"], task_queue)
    st = await wait_stage(handle, {"in_review"})
    assert st.review is not None and st.review.queue == "officer"

    async def update(method, arg):  # type: ignore[no-untyped-def]
        return await handle.execute_update(method, arg)

    # an applicant cannot claim
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="eve", role="applicant"))
    assert e.value.cause.type == "forbidden"
    # deciding before claiming is a conflict
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await update(CreditApplicationWorkflow.decide,
                     DecideInput(officer_id="olga", role="officer", action="approve", comment="fine"))
    assert e.value.cause.type == "conflict"
    task = await update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="olga", role="officer"))
    assert task.assignee == "olga"
    # somebody else cannot take it over
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="oscar", role="officer"))
    assert e.value.cause.type == "conflict"
    # a comment is mandatory
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await update(CreditApplicationWorkflow.decide,
                     DecideInput(officer_id="olga", role="officer", action="approve", comment="  "))
    assert e.value.cause.type == "invalid"
    await update(CreditApplicationWorkflow.decide,
                 DecideInput(officer_id="olga", role="officer", action="approve",
                             comment="Income verified against pay stub; stable employment."))
    result = await handle.result()
    assert result.stage == "approved"
    assert result.decision is not None and result.decision.decided_by == ["olga"]
    assert result.review is not None and result.review.approvals[0].comment.startswith("Income verified")
    # a finished task cannot be decided again
    with pytest.raises(Exception):
        await update(CreditApplicationWorkflow.decide,
                     DecideInput(officer_id="olga", role="officer", action="decline", comment="changed my mind"))


async def test_officer_request_info_loop_returns_to_review(temporal_env, worker, settings, db, task_queue):
    """An officer asks for a document; the applicant sees exactly what is asked; the upload re-analyses
    the application and puts it back in review."""
    from creditflow.demo import bank_statement
    from creditflow.store.blobs import BlobStore
    from workflows.credit_application_types import DocumentAdded

    app_id, handle = await start_application(temporal_env.client, settings, db, CASES["referral to officer"],
                                             task_queue)
    await wait_stage(handle, {"in_review"})
    await handle.execute_update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="olga", role="officer"))
    await handle.execute_update(CreditApplicationWorkflow.decide, DecideInput(
        officer_id="olga", role="officer", action="request_info", comment="Need a second month of statements.",
        requested_items=["bank_statement for the previous month"]))
    st = await wait_stage(handle, {"info_requested"})
    assert st.info_requested == ["bank_statement for the previous month"] and st.info_deadline is not None
    with db.session() as s:
        notice = next(n for n in repo.notices_for(s, app_id) if n.kind == "info_request")
        assert notice.body["requested"] == ["bank_statement for the previous month"]
    data = bank_statement("Carol Diaz", 4100, 9000, 7900).encode()
    sha = BlobStore(settings.blob_dir).put(data)
    with db.session() as s:
        doc_id = repo.add_document(s, app_id, sha, "text/plain", len(data), "older.txt")
    await handle.signal(CreditApplicationWorkflow.document_added, DocumentAdded(document_id=doc_id, sha256=sha))
    st = await wait_stage(handle, {"in_review"})
    assert st.info_requested == [] and st.review is not None and st.review.assignee is None
    assert len(st.analyzed_documents) == 4  # the new statement was analysed too
    await handle.terminate("test done")


@pytest.mark.parametrize("label,stage", [("clear approval", "approved"), ("decline", "declined")])
async def test_production_worker_without_the_sandbox_decides_the_same(temporal_env, settings, db, nlp_url,
                                                                      task_queue, label, stage):
    """Production workers run unsandboxed (CREDITFLOW_WORKER_WORKFLOW_SANDBOX=false, docker-compose.yml):
    the same workflows, end to end, with the real NLP service and database, reach the same outcome and
    start the credit line; every other test in this suite runs them sandboxed."""
    from temporalio.worker import UnsandboxedWorkflowRunner

    from creditflow.worker import build_worker

    settings.nlp_url, settings.task_queue = nlp_url, task_queue
    settings.worker_workflow_sandbox = False
    w = build_worker(temporal_env.client, settings, db, task_queue=task_queue)
    # private attribute, read only to prove the setting reached the SDK (no public accessor exists)
    assert isinstance(w._workflow_worker._workflow_runner, UnsandboxedWorkflowRunner)  # type: ignore[union-attr]
    async with w:
        app_id, handle = await start_application(temporal_env.client, settings, db, CASES[label], task_queue)
        result = await handle.result()
    assert result.stage == stage, result.model_dump()
    with db.session() as s:
        app = repo.get_application(s, app_id)
        assert app is not None and app.stage == stage
    if stage == "approved":
        assert result.credit_line_workflow_id == f"credit-line-{app_id}"
    else:
        assert result.decision is not None and 1 <= len(result.decision.reasons) <= 4


def test_the_suite_runs_workflows_sandboxed(settings) -> None:
    """The sandbox is the guard against non-deterministic calls; tests must keep it on by default."""
    assert settings.worker_workflow_sandbox is True
