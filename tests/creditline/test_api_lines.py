"""Servicing API of credit lines on the real stack: a real Temporal dev server, the worker with
the production workflows and activities, the real NLP service, the API over HTTP (uvicorn on a
loopback port) and a real SQLite database. Nothing is mocked.

The first test drives the line an approved application opened: draws (accepted, repeated,
refused), a repayment, a transaction, a bureau report and a note; the line events land in the
evidence log, which verifies; the portfolio summary and the line list reflect the line. The
second test checks who may do what on a line started directly (no NLP needed).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest_asyncio

from creditflow.demo import demo_cases
from creditflow.ledger.log import EvidenceLog
from creditflow.ledger.verify import verify_log
from tests.helpers import store_application
from workflows.credit_application import CreditApplicationWorkflow
from workflows.credit_application_types import ApplicationInput, SubmitInput
from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import CreditLineInput

CASES = {c["label"]: c for c in demo_cases()}
OWNER = "demo-applicant"  # the subject of tokens["applicant"]


@pytest_asyncio.fixture
async def worker(temporal_env, settings, db, nlp_url: str, task_queue: str):  # type: ignore[no-untyped-def]
    """The production worker of tests/conftest.py (this directory's conftest overrides `worker`
    with a time-skipping one, which these real-server tests must not use)."""
    from creditflow.worker import build_worker

    settings.nlp_url = nlp_url
    settings.task_queue = task_queue
    async with build_worker(temporal_env.client, settings, db, task_queue=task_queue) as w:
        yield w


@pytest_asyncio.fixture
async def http(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll `probe` (async, returns a truthy value when done): signals and visibility are
    asynchronous. The timeout only bounds a failing test; nothing asserts on time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.2)


async def approve(temporal_env, settings, db, task_queue: str) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    case = CASES["clear approval"]
    app_id, docs = store_application(settings, db, case["body"], case["documents"], owner=OWNER)
    body = case["body"]
    handle = await temporal_env.client.start_workflow(
        CreditApplicationWorkflow.run,
        ApplicationInput(application_id=app_id, product=body["product"], requested_amount=body["requested_amount"],
                         term_months=body["term_months"], note_count=len(body["notes"])),
        id=f"application-{app_id}", task_queue=task_queue)
    for d in docs:
        await handle.signal(CreditApplicationWorkflow.document_added, d)
    await handle.signal(CreditApplicationWorkflow.submit, SubmitInput())
    result = await handle.result()
    assert result.stage == "approved" and result.decision is not None and result.decision.credit_limit
    assert result.credit_line_workflow_id == f"credit-line-{app_id}"
    return app_id, float(result.decision.credit_limit)


async def test_servicing_an_approved_line(temporal_env, worker, api_url, http, tokens, settings, db,
                                          task_queue) -> None:  # type: ignore[no-untyped-def]
    app_id, limit = await approve(temporal_env, settings, db, task_queue)
    admin, officer = auth(tokens["admin"]), auth(tokens["officer"])
    base = f"/v1/lines/{app_id}"

    r = await http.get(base, headers=officer)
    assert r.status_code == 200, r.text
    line = r.json()
    assert line["credit_limit"] == limit and line["available"] == limit and line["bucket"] == "current"
    assert line["workflow_id"] == f"credit-line-{app_id}" and line["policy"] is not None

    # a draw within the limit is accepted, with its installment plan
    amount = round(limit / 2, 2)
    r = await http.post(f"{base}/draws", headers=admin,
                        json={"draw_id": "d-1", "amount": amount, "term_months": 12, "merchant": "Oak Furniture"})
    assert r.status_code == 201, r.text
    drawn = r.json()
    assert drawn["duplicate"] is False and len(drawn["plan"]["installments"]) == 12
    assert drawn["available_after"] == round(limit - amount, 2)
    # the same draw id again: the first answer, nothing drawn twice
    r = await http.post(f"{base}/draws", headers=admin,
                        json={"draw_id": "d-1", "amount": amount, "term_months": 12, "merchant": "Oak Furniture"})
    assert r.status_code == 200 and r.json()["duplicate"] is True
    # over the available limit: refused by the update's validator, with the reason
    r = await http.post(f"{base}/draws", headers=admin, json={"draw_id": "d-2", "amount": limit, "term_months": 12})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["reason"] == "INSUFFICIENT_AVAILABLE" and problem["available"] == round(limit - amount, 2)
    # a term the line does not offer is a bad request
    r = await http.post(f"{base}/draws", headers=admin, json={"draw_id": "d-3", "amount": 10, "term_months": 7})
    assert r.status_code == 422 and r.json()["reason"] == "BAD_TERM" and 12 in r.json()["terms_offered"]
    # strict bodies: unknown fields and bad ids are refused before the workflow sees them
    r = await http.post(f"{base}/draws", headers=admin,
                        json={"draw_id": "d-4", "amount": 10, "term_months": 12, "apr": 0})
    assert r.status_code == 422
    r = await http.post(f"{base}/repayments", headers=admin, json={"payment_id": "p 1", "amount": 10})
    assert r.status_code == 422

    r = await http.get(base, headers=officer)
    st = r.json()
    assert st["total_drawn"] == amount and st["counters"]["draws"] == 1
    balance = st["balance_outstanding"]
    assert balance > amount  # principal plus interest

    # a repayment reduces the balance; a repeated payment id is ignored
    r = await http.post(f"{base}/repayments", headers=admin, json={"payment_id": "p-1", "amount": 100.0})
    assert r.status_code == 202 and r.json() == {"accepted": True, "application_id": app_id,
                                                 "kind": "repayment", "id": "p-1"}

    async def repaid() -> dict | None:
        body = (await http.get(base, headers=officer)).json()
        return body if body["total_repaid"] == 100.0 else None

    st = await eventually(repaid, "the repayment reaches the line")
    assert st["balance_outstanding"] == round(balance - 100.0, 2)
    assert st["payments"][0]["payment_id"] == "p-1" and st["payments"][0]["applied"] == 100.0
    await http.post(f"{base}/repayments", headers=admin, json={"payment_id": "p-1", "amount": 100.0})

    # transaction, bureau report and note (the note is read by the real NLP service)
    today = datetime.now(timezone.utc).date().isoformat()
    r = await http.post(f"{base}/transactions", headers=admin,
                        json={"txn_id": "t-1", "merchant": "Lucky Star Casino", "category": "7995",
                              "amount": 250.0, "observed_on": today})
    assert r.status_code == 202
    r = await http.post(f"{base}/bureau", headers=admin,
                        json={"update_id": "b-1", "external_delinquencies": 0, "new_inquiries": 1})
    assert r.status_code == 202
    r = await http.post(f"{base}/notes", headers=admin,
                        json={"note_id": "n-1", "text": "Borrower called: he was laid off last week and "
                                                        "has no income now."})
    assert r.status_code == 202

    async def all_arrived() -> dict | None:
        body = (await http.get(base, headers=officer)).json()
        c = body["counters"]
        done = c["transactions"] == 1 and c["bureau_updates"] == 1 and c["notes"] == 1 and body["note_signals"]
        return body if done else None

    st = await eventually(all_arrived, "transaction, bureau report and analysed note reach the line", timeout=60)
    assert st["total_repaid"] == 100.0 and st["counters"]["duplicates_ignored"] >= 2  # p-1 and d-1 again
    assert st["transactions"][0]["merchant"] == "Lucky Star Casino"
    assert st["counters"]["note_analysis_failures"] == 0
    assert any(s["code"] == "EMPLOYMENT_LOSS" and s["polarity"] == "affirmed" for s in st["note_signals"])
    assert "laid off" not in str(st)  # the note's text is not kept in the line state

    # the line events are in the evidence log, once each, and the whole log verifies
    records = EvidenceLog(db, settings).evidence_bundle(app_id)["records"]
    stages = [r["stage"] for r in records]
    assert "approved" in stages and stages.count("line_opened") == 1 and stages.count("line_draw") == 1
    draw_record = next(r["record"] for r in records if r["stage"] == "line_draw")
    assert draw_record["details"]["draw_id"] == "d-1" and draw_record["details"]["amount"] == amount
    assert draw_record["idempotency_key"].startswith(f"credit-line-{app_id}:event:")
    assert verify_log(db, settings).ok

    # the portfolio summary reflects the line (its task queue holds only this line)
    async def summarized() -> dict | None:
        body = (await http.get("/v1/portfolio/summary", headers=officer)).json()
        return body if body["lines"] == 1 else None

    summary = await eventually(summarized, "the line shows in the portfolio summary")
    current = next(b for b in summary["buckets"] if b["bucket"] == "current")
    assert current["count"] == 1 and current["credit_limit"] == limit
    assert current["principal_outstanding"] == st["principal_outstanding"]
    assert summary["totals"]["balance_outstanding"] == st["balance_outstanding"]
    assert all(b["count"] == 0 for b in summary["buckets"] if b["bucket"] != "current")
    assert summary["watch_list"] == 0 and summary["frozen"] == 0 and summary["unreachable"] == 0
    assert summary["roll_rates"] == []  # opened this month: on book at no earlier month end

    # the line list by search attributes: bucket and watch-list flag, no PII
    r = await http.get("/v1/lines", headers=officer, params={"bucket": "current", "watch_list": "false"})
    assert r.status_code == 200
    assert [i["application_id"] for i in r.json()["items"]] == [app_id]
    item = r.json()["items"][0]
    assert set(item) == {"application_id", "workflow_id", "bucket", "watch_list", "started_at"}
    r = await http.get("/v1/lines", headers=officer, params={"bucket": "30-59"})
    assert r.status_code == 200 and r.json()["items"] == []
    r = await http.get("/v1/lines", headers=officer, params={"watch_list": "true"})
    assert r.json()["items"] == []
    r = await http.get("/v1/lines", headers=officer, params={"bucket": "31-59"})
    assert r.status_code == 422
    await temporal_env.client.get_workflow_handle(f"credit-line-{app_id}").terminate("test finished")


async def test_who_may_read_and_service_a_line(temporal_env, worker, api_url, http, tokens, settings, db,
                                               task_queue) -> None:  # type: ignore[no-untyped-def]
    case = CASES["clear approval"]
    app_id, _ = store_application(settings, db, case["body"], case["documents"], owner=OWNER)
    no_line_id, _ = store_application(settings, db, case["body"], case["documents"], owner=OWNER)
    await temporal_env.client.start_workflow(
        CreditLineWorkflow.run,
        CreditLineInput(application_id=app_id, product="consumer_installment", credit_limit=1500.0, grade="B",
                        score=640.0, opened_on=datetime.now(timezone.utc).date()),
        id=f"credit-line-{app_id}", task_queue=task_queue)
    base = f"/v1/lines/{app_id}"

    # the owner reads their own line, without the internal risk view
    r = await http.get(base, headers=auth(tokens["applicant"]))
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["credit_limit"] == 1500.0 and mine["available"] == 1500.0
    assert not {"watch_list", "alerts", "active_rules", "score", "grade", "seen_ids"} & set(mine)
    # another applicant gets 404 (not 403), as for an unknown line
    r = await http.get(base, headers=auth(tokens["applicant2"]))
    assert r.status_code == 404
    r = await http.get(f"/v1/lines/{uuid.uuid4().hex}", headers=auth(tokens["admin"]))
    assert r.status_code == 404
    # an application without a line
    r = await http.get(f"/v1/lines/{no_line_id}", headers=auth(tokens["admin"]))
    assert r.status_code == 404 and r.json()["title"] == "Credit line not found"
    # only the servicing role posts to a line: not the applicant, not an officer
    for who in ("applicant", "officer", "senior_officer"):
        r = await http.post(f"{base}/draws", headers=auth(tokens[who]),
                            json={"draw_id": "x", "amount": 10, "term_months": 12})
        assert r.status_code == 403, who
        r = await http.post(f"{base}/repayments", headers=auth(tokens[who]), json={"payment_id": "x", "amount": 1})
        assert r.status_code == 403, who
    r = await http.post(f"{base}/draws", json={"draw_id": "x", "amount": 10, "term_months": 12})
    assert r.status_code == 401
    # staff read everything; applicants may neither list lines nor see the portfolio
    r = await http.get(base, headers=auth(tokens["senior_officer"]))
    assert r.status_code == 200 and r.json()["watch_list"] is False
    for path in ("/v1/lines", "/v1/portfolio/summary"):
        r = await http.get(path, headers=auth(tokens["applicant"]))
        assert r.status_code == 403, path
    # the admin's draw goes through; the line state shows it
    r = await http.post(f"{base}/draws", headers=auth(tokens["admin"]),
                        json={"draw_id": "x", "amount": 300, "term_months": 6})
    assert r.status_code == 201, r.text
    r = await http.get(base, headers=auth(tokens["applicant"]))
    assert r.json()["available"] == 1200.0 and len(r.json()["draws"]) == 1
    await temporal_env.client.get_workflow_handle(f"credit-line-{app_id}").terminate("test finished")
