"""`record_step` (patch `record-step`): a decision step's evidence record and the application row, notice
and officer decision it changes, in one transaction. Real database (SQLite, or PostgreSQL with
CREDITFLOW_TEST_DATABASE_URL) and evidence log; the activity runs in temporalio's ActivityEnvironment.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from creditflow.activities.application import ApplicationActivities
from creditflow.config import Settings
from creditflow.demo import demo_cases
from creditflow.ledger.models import EvidenceRecord
from creditflow.ledger.verify import verify_log
from creditflow.store import repo
from tests.helpers import store_application
from workflows.credit_application_types import EvidenceInput, OutcomeInput, StepInput

CASE = next(c for c in demo_cases() if c["label"] == "clear approval")
AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def _final(app_id: str, step: str = "final-1") -> StepInput:
    view = {"outcome": "approve", "grade": "B", "credit_limit": 2000.0, "plans": [], "reasons": []}
    return StepInput(
        evidence=EvidenceInput(application_id=app_id, step=step, stage="approved", actor="auto", at=AT,
                               outcome="approved", details={"grade": "B"}),
        outcome=OutcomeInput(application_id=app_id, step=step, stage="approved", status="approved",
                             decision=view, notice_kind="decision_approved"),
    )


def _evidence_count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(EvidenceRecord))


async def test_one_step_writes_record_row_and_notice_once(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    app_id, _ = store_application(settings, db, CASE["body"], [])
    acts = ApplicationActivities(settings, db)
    env = ActivityEnvironment()
    seq = await env.run(acts.record_step, _final(app_id))

    with db.session() as s:
        app = repo.get_application(s, app_id)
        assert (app.stage, app.status, app.decision["credit_limit"]) == ("approved", "approved", 2000.0)
        notices = repo.notices_for(s, app_id)
    assert [(n.kind, n.body) for n in notices] == [("decision_approved", app.decision)]  # the notice is the decision
    records = acts.ledger.records_for(app_id)
    assert [r.record.seq for r in records] == [seq] and records[0].record.outcome == "approved"

    # an activity retry after the commit (worker killed before it reported): nothing is written twice
    assert await env.run(acts.record_step, _final(app_id)) == seq
    with db.session() as s:
        assert len(repo.notices_for(s, app_id)) == 1
    assert _evidence_count(db) == 1
    assert verify_log(db, settings).ok


async def test_a_failed_row_write_leaves_no_evidence(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    """Both or neither: an unknown application fails the row's write, and the evidence record written in
    the same transaction is rolled back with it (before the patch it stayed, and the step was half done)."""
    acts = ApplicationActivities(settings, db)
    with pytest.raises(ApplicationError, match="unknown application"):
        await ActivityEnvironment().run(acts.record_step, _final("no-such-application"))
    assert _evidence_count(db) == 0
    assert acts.ledger.latest_head() is None
