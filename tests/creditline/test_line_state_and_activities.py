"""Pure state helpers of the workflow, and the servicing activities outside Temporal.

The NLP activity is tested against a real HTTP server on a random port that plays the
NLP service (the one outside service here): request shape, mapping, PII dropped, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from creditflow.activities import servicing
from creditflow.config import get_settings
from workflows.credit_line_types import (
    CreditLineState,
    Installment,
    InstallmentPlan,
    LineEvent,
    NoteAnalysisRequest,
    PlanDrawRequest,
    apply_payment,
    bucket_for,
    days_past_due,
    months_between,
    refresh,
    remember_id,
)


def state_with_plan() -> CreditLineState:
    state = CreditLineState(application_id="a1", product="consumer_installment", currency="USD",
                            opened_on=date(2026, 1, 1), credit_limit=1000.0, origination_limit=1000.0,
                            origination_score=600.0, origination_grade="B", score=600.0, grade="B")
    state.draws.append(InstallmentPlan(
        draw_id="d1", drawn_on=date(2026, 1, 1), amount=300.0, term_months=3, apr=0.0, monthly_payment=100.0,
        total_interest=0.0, installments=[
            Installment(seq=k, due_on=date(2026, k + 1, 1), principal=100.0, interest=0.0, amount=100.0)
            for k in (1, 2, 3)]))
    refresh(state, date(2026, 1, 1))
    return state


@pytest.mark.parametrize(("dpd", "bucket"), [(0, "current"), (1, "1-29"), (29, "1-29"), (30, "30-59"),
                                             (59, "30-59"), (60, "60-89"), (89, "60-89"), (90, "90+")])
def test_buckets(dpd: int, bucket: str) -> None:
    assert bucket_for(dpd) == bucket


def test_days_past_due_counts_from_the_oldest_unpaid_installment() -> None:
    state = state_with_plan()
    assert days_past_due(state, date(2026, 2, 1)) == 0  # due today is not past due
    assert days_past_due(state, date(2026, 2, 2)) == 1
    assert days_past_due(state, date(2026, 3, 15)) == 42
    assert state.available == 700.0


def test_payment_waterfall_pays_oldest_first_then_prepays_then_holds_credit() -> None:
    state = state_with_plan()
    assert apply_payment(state, 150.0) == 150.0
    refresh(state, date(2026, 3, 15))
    assert [i.paid for i in state.draws[0].installments] == [100.0, 50.0, 0.0]
    assert days_past_due(state, date(2026, 3, 15)) == 14  # second installment still half open
    assert state.principal_outstanding == 150.0 and state.available == 850.0
    assert apply_payment(state, 200.0) == 150.0
    assert state.credit_balance == 50.0
    refresh(state, date(2026, 3, 15))
    assert state.balance_outstanding == 0 and days_past_due(state, date(2026, 5, 1)) == 0


def test_remember_id_is_bounded_and_counts_duplicates() -> None:
    state = state_with_plan()
    assert remember_id(state, "x") and not remember_id(state, "x")
    assert state.counters.duplicates_ignored == 1
    for k in range(2100):
        remember_id(state, f"id{k}")
    assert len(state.seen_ids) == 2000 and "x" not in state.seen_ids


def test_months_between() -> None:
    assert months_between(date(2026, 1, 31), date(2026, 7, 30)) == 5
    assert months_between(date(2026, 1, 31), date(2026, 7, 31)) == 6


async def test_plan_draw_activity() -> None:
    plan = await ActivityEnvironment().run(servicing.plan_draw, PlanDrawRequest(
        application_id="a1", draw_id="d1", amount=1200.0, term_months=12, apr=16.0, drawn_on=date(2026, 1, 15)))
    assert plan.monthly_payment == 108.88 and len(plan.installments) == 12
    assert round(sum(i.principal for i in plan.installments), 2) == 1200.0
    assert plan.total_interest == round(sum(i.interest for i in plan.installments), 2)


async def test_line_policy_and_event_activities() -> None:
    policy = await ActivityEnvironment().run(servicing.load_line_policy)
    assert policy.version and [p.term_months for p in policy.default_plans] == [3, 6, 12, 24]
    assert all(p.apr <= 24 for p in policy.default_plans)
    event = LineEvent(application_id="a1", kind="action", occurred_on=date(2026, 1, 1), reason_code="EW_DPD_60")
    first = await ActivityEnvironment().run(servicing.record_line_event, event)
    second = await ActivityEnvironment().run(servicing.record_line_event, event)
    assert first == second and len(first.event_sha256) == 64


# ---------------------------------------------------------------- the NLP service over HTTP

ANALYSIS = {
    "kind": "note", "doc_type": None, "doc_type_confidence": 0.0, "fields": {}, "entities": [],
    "risk_signals": [
        {"code": "EMPLOYMENT_LOSS", "polarity": "affirmed", "subject": "applicant", "severity": "high",
         "evidence": {"text": "John Smith lost his job", "start": 0, "end": 23}},
        {"code": "DELINQUENCY", "polarity": "negated", "subject": "applicant", "severity": "low",
         "evidence": {"text": "no late payments", "start": 25, "end": 41}},
    ],
    "protected_attributes": [], "pii": [{"type": "PERSON", "start": 0, "end": 10}], "model_version": "nlp-1",
}


@pytest.fixture
def nlp_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    received: list[dict] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "body": body})
            payload = json.dumps(ANALYSIS if status["code"] == 200 else {"detail": "bad"}).encode()
            self.send_response(status["code"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # random free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CREDITFLOW_NLP_URL", f"http://127.0.0.1:{server.server_port}")
    get_settings.cache_clear()
    received.append({"status": status})  # handle for the test to change the answer
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        get_settings.cache_clear()


async def test_analyze_servicing_note_calls_the_nlp_service(nlp_service: list[dict]) -> None:
    request = NoteAnalysisRequest(application_id="a1", note_id="n1", observed_on=date(2026, 2, 1),
                                  text="John Smith lost his job; no late payments so far.")
    result = await ActivityEnvironment().run(servicing.analyze_servicing_note, request)
    call = nlp_service[1]
    assert call["path"] == "/v1/analyze" and call["body"] == {"text": request.text, "kind": "note"}
    assert result.model_version == "nlp-1"
    assert [(s.code, s.polarity, s.start, s.end) for s in result.signals] == [
        ("EMPLOYMENT_LOSS", "affirmed", 0, 23), ("DELINQUENCY", "negated", 25, 41)]
    assert "John Smith" not in result.model_dump_json()  # the evidence text (PII) is not kept


async def test_analyze_servicing_note_refused_is_not_retried(nlp_service: list[dict]) -> None:
    nlp_service[0]["status"]["code"] = 422
    request = NoteAnalysisRequest(application_id="a1", note_id="n1", observed_on=date(2026, 2, 1), text="x")
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(servicing.analyze_servicing_note, request)
    assert info.value.non_retryable and info.value.type == "NLP_REJECTED"
