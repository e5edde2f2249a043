"""Servicing alert tasks: an early-warning action on a line becomes a task in the officers'
`servicing` queue, listed by the review API and closed with a comment that lands in the ledger.

The line runs on the time-skipping test server with the real servicing activities (conftest.py;
only the NLP service, an outside service, is canned). The API is the real FastAPI app, called
in-process (ASGI) against this test's database and the same Temporal client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from creditflow.activities.servicing import ServicingActivities
from creditflow.ledger.log import EvidenceLog
from creditflow.ledger.verify import verify_log
from creditflow.store import alerts
from workflows.credit_line_types import LineEvent


def open_alerts(db) -> list[alerts.ServicingAlert]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return list(s.scalars(select(alerts.ServicingAlert).order_by(alerts.ServicingAlert.raised_at)))


# ---------------------------------------------------------------- pure parts

@pytest.mark.parametrize(("start", "days", "due"), [
    (datetime(2025, 11, 21, 10, 0, tzinfo=timezone.utc), 2, datetime(2025, 11, 25, 10, 0, tzinfo=timezone.utc)),  # Fri
    (datetime(2025, 11, 22, 10, 0, tzinfo=timezone.utc), 2, datetime(2025, 11, 25, 10, 0, tzinfo=timezone.utc)),  # Sat
    (datetime(2025, 11, 24, 0, 0, 5, tzinfo=timezone.utc), 2, datetime(2025, 11, 26, 0, 0, 5, tzinfo=timezone.utc)),
    (datetime(2025, 11, 24, 9, 0, tzinfo=timezone.utc), 0, datetime(2025, 11, 24, 9, 0, tzinfo=timezone.utc)),
])
def test_sla_counts_business_days_only(start: datetime, days: int, due: datetime) -> None:
    assert alerts.add_business_days(start, days) == due


def test_alert_policy_names_the_actions_that_need_an_officer() -> None:
    policy = alerts.load_alert_policy()
    assert policy.spec.queue == "servicing" and policy.spec.sla_business_days == 2
    for action in ("watch_list", "freeze", "limit_reduction"):
        assert policy.raises_task(action)
    for action in ("reminder", "rescore", "unfreeze", "watch_list_release", "limit_increase_offer", None):
        assert not policy.raises_task(action)
    assert len(policy.version) == 64


async def test_record_line_event_raises_one_task_per_action_and_none_for_reminders(settings, db) -> None:  # type: ignore[no-untyped-def]
    """Retried activity (same event twice): one evidence record, one task. Outside a worker the
    line cannot be queried, so the task is raised without its figures rather than not at all."""
    acts = ServicingActivities(settings, db)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="credit-line-app-1")
    watch = LineEvent(application_id="app-1", kind="action", occurred_on=date(2025, 3, 3), reason_code="EW_DPD_30",
                      detail={"action": "watch_list", "rule_id": "EW-DPD30"}, policy_version="p" * 64)
    reminder = LineEvent(application_id="app-1", kind="action", occurred_on=date(2025, 2, 2),
                         reason_code="EW_FIRST_MISSED_PAYMENT", detail={"action": "reminder", "rule_id": "EW-REMINDER"})
    first = await env.run(acts.record_line_event, watch)
    again = await env.run(acts.record_line_event, watch)
    await env.run(acts.record_line_event, reminder)
    assert first == again
    rows = open_alerts(db)
    assert [(r.action, r.reason_code, r.status) for r in rows] == [("watch_list", "EW_DPD_30", "open")]
    assert rows[0].product is None and rows[0].balance is None
    records = EvidenceLog(db, settings).evidence_bundle("app-1")["records"]
    assert [r["stage"] for r in records] == ["line_action", "line_action"]  # watch list once, reminder once
    assert rows[0].evidence_seq == records[0]["record"]["seq"]
    assert rows[0].key == records[0]["record"]["idempotency_key"]


# ---------------------------------------------------------------- the whole path

@pytest_asyncio.fixture
async def http(settings, db, env) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    from creditflow.api.app import create_app

    app = create_app(settings, temporal=env.client, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_slipping_line_raises_servicing_tasks_that_officers_resolve(start_line, http, tokens, settings,
                                                                         db) -> None:  # type: ignore[no-untyped-def]
    line = await start_line(credit_limit=3000.0, grade="B")
    draw = await line.draw("d1", 1200.0, term_months=12)
    first_due = draw.plan.installments[0].due_on

    await line.advance_to(first_due + timedelta(days=2))  # 1-29 DPD: a reminder, no task
    assert open_alerts(db) == []

    await line.advance_to(first_due + timedelta(days=31))  # 30+ DPD: watch list -> one task
    state = await line.status()
    assert state.watch_list
    [task] = open_alerts(db)
    assert (task.action, task.reason_code, task.rule_id) == ("watch_list", "EW_DPD_30", "EW-DPD30")
    assert task.application_id == state.application_id and task.workflow_id == line.handle.id
    assert task.product == "consumer_installment" and task.grade == state.grade and task.bucket == "30-59"
    assert task.balance is not None and task.balance > 1000.0 and task.days_past_due == 30
    raised_at = task.raised_at if task.raised_at.tzinfo else task.raised_at.replace(tzinfo=timezone.utc)
    due = task.sla_due_at if task.sla_due_at.tzinfo else task.sla_due_at.replace(tzinfo=timezone.utc)
    assert raised_at.date() == task.raised_on == first_due + timedelta(days=30)
    assert due == alerts.add_business_days(raised_at, 2)

    # visible in the servicing queue to every staff role, not to applicants
    for role in ("officer", "senior_officer", "admin"):
        r = await http.get("/v1/review/tasks", params={"queue": "servicing"}, headers=bearer(tokens[role]))
        assert r.status_code == 200, r.text
        [item] = r.json()["items"]
        assert item == item | {"id": task.id, "application_id": state.application_id, "queue": "servicing",
                               "product": "consumer_installment", "amount": task.balance, "grade": state.grade,
                               "stage": "alert", "sla_due_at": due.isoformat(), "assignee": None,
                               "reason_code": "EW_DPD_30"}
    r = await http.get("/v1/review/tasks", params={"queue": "servicing"}, headers=bearer(tokens["applicant"]))
    assert r.status_code == 403
    r = await http.get("/v1/review/tasks", params={"queue": "servicing"})
    assert r.status_code == 401

    # 60+ DPD: the freeze is a second task (a limit cut joins it when the monthly re-score,
    # whose day depends on the calendar, has already dropped the grade two notches)
    await line.advance_to(first_due + timedelta(days=61))
    raised = {(a.action, a.reason_code) for a in open_alerts(db)}
    assert {("watch_list", "EW_DPD_30"), ("freeze", "EW_DPD_60")} <= raised
    assert raised <= {("watch_list", "EW_DPD_30"), ("freeze", "EW_DPD_60"), ("limit_reduction", "EW_GRADE_DROP")}

    # resolving needs staff and a comment
    path = f"/v1/review/alerts/{task.id}/resolve"
    assert (await http.post(path, json={"comment": "called"}, headers=bearer(tokens["applicant"]))).status_code == 403
    assert (await http.post(path, json={}, headers=bearer(tokens["officer"]))).status_code == 422
    assert (await http.post(path, json={"comment": "   "}, headers=bearer(tokens["officer"]))).status_code == 422
    assert (await http.post("/v1/review/alerts/sa-nope/resolve", json={"comment": "x"},
                            headers=bearer(tokens["officer"]))).status_code == 404
    assert open_alerts(db)[0].status == "open"

    r = await http.post(path, json={"comment": "Called the borrower; payment plan agreed."},
                        headers=bearer(tokens["officer"]))
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "demo-officer"
    r = await http.post(path, json={"comment": "again"}, headers=bearer(tokens["senior_officer"]))
    assert r.status_code == 409

    # the queue no longer holds the resolved task, still the later ones
    r = await http.get("/v1/review/tasks", params={"queue": "servicing"}, headers=bearer(tokens["officer"]))
    left = [i["reason_code"] for i in r.json()["items"]]
    assert "EW_DPD_60" in left and "EW_DPD_30" not in left and len(left) == len(raised) - 1

    # the resolution is in the evidence log, after the action it closes, and the log verifies
    records = EvidenceLog(db, settings).evidence_bundle(state.application_id)["records"]
    resolution = [r["record"] for r in records if r["stage"] == "line_alert_resolved"]
    assert len(resolution) == 1
    rec = resolution[0]
    assert rec["seq"] == resolved["resolution_evidence_seq"] and rec["seq"] > task.evidence_seq
    assert rec["actor"] == "demo-officer" and rec["outcome"] == "resolved"
    assert rec["reasons"] == [{"code": "EW_DPD_30"}]
    assert rec["details"]["alert_id"] == task.id and rec["details"]["action_evidence_seq"] == task.evidence_seq
    assert "payment plan" not in str(rec)  # the comment is in the log as its sha256 only
    assert len(rec["inputs"]["comment"]) == 64
    assert verify_log(db, settings).ok
