"""Fault injection against real processes (Temporal dev server, NLP service, worker, API, SQLite and
PostgreSQL): creditflow keeps its promises when a process dies, a dependency goes away, or the
same request arrives twice at once. Sizes are bounded so the folder runs in a few minutes on 2 cores.

Nothing is mocked: processes are killed with signals, PostgreSQL is cut off by closing a TCP proxy
in front of it (the server itself keeps running for the other tests).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa

from creditflow.demo import demo_cases, submit_case
from creditflow.store.db import Database
from tests.faults.conftest import TERMINAL, FaultStack, auth, wait_stage

pytestmark = pytest.mark.e2e

CASES = {c["label"]: c for c in demo_cases()}
APPROVE, DECLINE, REFER = CASES["clear approval"], CASES["decline"], CASES["referral to officer"]
FINAL_STAGES = {"approved", "declined", "withdrawn_incomplete"}


def _ledger_verify(var: str, db_url: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CREDITFLOW_VAR_DIR": var, "CREDITFLOW_ENV": "test"}
    env.pop("CREDITFLOW_DATABASE_URL", None)
    if db_url:
        env["CREDITFLOW_DATABASE_URL"] = db_url
    return subprocess.run([sys.executable, "-m", "creditflow.cli", "ledger", "verify"], capture_output=True,
                          text=True, env=env, timeout=120)


def _rows(db_url: str, app_ids: list[str]) -> dict[str, dict[str, Counter]]:
    """Per application: decision rows by (kind, outcome), evidence records by stage, notices by kind."""
    db = Database(db_url)
    out: dict[str, dict[str, Counter]] = {a: {"decisions": Counter(), "evidence": Counter(), "notices": Counter()}
                                         for a in app_ids}
    try:
        with db.engine.connect() as c:
            for app_id, kind, outcome in c.execute(sa.text("SELECT application_id, kind, outcome FROM decisions")):
                if app_id in out:
                    out[app_id]["decisions"][(kind, outcome)] += 1
            for app_id, stage in c.execute(sa.text("SELECT application_id, stage FROM evidence_records")):
                if app_id in out:
                    out[app_id]["evidence"][stage] += 1
            for app_id, kind in c.execute(sa.text("SELECT application_id, kind FROM notices")):
                if app_id in out:
                    out[app_id]["notices"][kind] += 1
    finally:
        db.dispose()
    return out


def _assert_exactly_once(rows: dict[str, dict[str, Counter]], final: dict[str, str]) -> None:
    """Exactly one automatic decision, one policy evidence record, one final record and one final notice
    per application: a retried or replayed activity must never write a second one."""
    for app_id, r in rows.items():
        autos = [k for k in r["decisions"] if k[0] == "auto"]
        assert sum(r["decisions"][k] for k in autos) == 1, (app_id, r["decisions"])
        assert r["evidence"]["policy"] == 1, (app_id, r["evidence"])
        stage = final[app_id]
        if stage in FINAL_STAGES:
            assert r["evidence"][stage] == 1, (app_id, r["evidence"])
            assert sum(n for k, n in r["notices"].items() if k.startswith("decision_")) == 1, (app_id, r["notices"])
        assert all(n == 1 for n in r["evidence"].values()), (app_id, r["evidence"])


# ------------------------------------------------------------------------------------------ worker
def test_kill9_worker_with_applications_in_flight(stack: FaultStack) -> None:
    """kill -9 the worker while 24 applications are being submitted and processed, restart it:
    every application reaches exactly one decision, no duplicate rows or evidence, ledger verifies,
    referred applications appear once each in the officer inbox."""
    n = 24
    plan = [APPROVE if i % 3 == 0 else DECLINE if i % 3 == 1 else REFER for i in range(n)]
    expect = {"clear approval": "approved", "decline": "declined", "referral to officer": "in_review"}
    tok = stack.tokens["applicant"]
    worker = stack.procs["worker"]

    async def drive() -> tuple[dict[str, str], list[str]]:
        async with httpx.AsyncClient(base_url=stack.api, timeout=60) as http:
            sem = asyncio.Semaphore(6)
            done: list[str] = []

            async def one(i: int) -> tuple[str, str]:
                async with sem:
                    app_id = await submit_case(http, tok, plan[i], key=f"kill9-{i}")
                    done.append(app_id)
                    return app_id, expect[plan[i]["label"]]

            tasks = [asyncio.create_task(one(i)) for i in range(n)]
            while len(done) < 8:  # some are deciding, more are still arriving
                await asyncio.sleep(0.05)
            await asyncio.to_thread(worker.kill9)
            await asyncio.sleep(1.5)  # submissions keep arriving with no worker at all
            # in flight = accepted but undecided while no worker exists (they can only finish after restart)
            in_flight = []
            for a in list(done):
                r = await http.get(f"/v1/applications/{a}", headers=auth(tok))
                if r.json()["stage"] not in TERMINAL | {"in_review"}:
                    in_flight.append(a)
            await asyncio.to_thread(worker.start)
            pairs = await asyncio.gather(*tasks)
            expected = dict(pairs)
            for app_id, stage in expected.items():
                body = await wait_stage(http, tok, app_id, {stage} | TERMINAL, timeout=180)
                assert body["stage"] == stage, (app_id, body["stage"], body.get("problems"))
                if stage != "in_review":
                    assert body["decision"]["decided_by"] == "auto"
            # officer inbox: each referral exactly once (visibility lags a little)
            referred = {a for a, s in expected.items() if s == "in_review"}
            officer = auth(stack.tokens["officer"])
            deadline = time.monotonic() + 30
            while True:
                items = (await http.get("/v1/review/tasks", headers=officer)).json()["items"]
                seen = Counter(t["application_id"] for t in items if t["application_id"] in referred)
                if set(seen) == referred or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert set(seen) == referred and all(c == 1 for c in seen.values()), seen
            return expected, in_flight

    expected, in_flight = asyncio.run(drive())
    assert in_flight, "the kill should have hit applications that were still being processed"
    rows = _rows(stack.settings.db_url, list(expected))
    _assert_exactly_once(rows, expected)
    verify = _ledger_verify(str(stack.var), None)
    assert verify.returncode == 0, verify.stdout + verify.stderr


# ------------------------------------------------------------------------------------------ NLP
def _blank_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 200), "white").save(buf, format="PNG")
    return buf.getvalue()


def test_nlp_outage_retries_and_unreadable_document_asks_for_a_clearer_copy(stack: FaultStack) -> None:
    """The NLP service is down for ~15 s while applications arrive: document and note activities retry
    with backoff (attempt > 1 in the history) and every application finishes after it returns. A blank
    PNG (no text to extract) ends in `info_requested` telling the applicant which document to re-upload."""
    tok = stack.tokens["applicant"]
    nlp = stack.procs["nlp"]

    async def drive() -> tuple[list[str], str, str]:
        async with httpx.AsyncClient(base_url=stack.api, timeout=60) as http:
            await asyncio.to_thread(nlp.stop)
            down_at = time.monotonic()
            apps = await asyncio.gather(*(submit_case(http, tok, APPROVE, key=f"nlp-down-{i}") for i in range(4)))
            # the bad document: ID + pay stub as text, the bank statement as a blank scan
            r = await http.post("/v1/applications", json=APPROVE["body"], headers={**auth(tok),
                                "Idempotency-Key": "nlp-blank-png"})
            assert r.status_code == 201, r.text
            bad = r.json()["id"]
            for i, text in enumerate(APPROVE["documents"][:2]):
                r = await http.post(f"/v1/applications/{bad}/documents", headers=auth(tok),
                                    files={"file": (f"d{i}.txt", text.encode(), "text/plain")})
                assert r.status_code == 201, r.text
            r = await http.post(f"/v1/applications/{bad}/documents", headers=auth(tok),
                                files={"file": ("statement.png", _blank_png(), "image/png")})
            assert r.status_code == 201, r.text
            blank_id = r.json()["document_id"]
            assert (await http.post(f"/v1/applications/{bad}/submit", headers=auth(tok))).status_code == 202
            await asyncio.sleep(max(0.0, 15 - (time.monotonic() - down_at)))
            for a in apps:  # nothing failed while the service was away: still analysing
                body = (await http.get(f"/v1/applications/{a}", headers=auth(tok))).json()
                assert body["stage"] in {"awaiting_documents", "analyzing"}, body["stage"]
            await asyncio.to_thread(nlp.start)
            for a in apps:
                body = await wait_stage(http, tok, a, TERMINAL | {"in_review", "info_requested"}, timeout=120)
                assert body["stage"] == "approved", (a, body["stage"], body.get("problems"))
            body = await wait_stage(http, tok, bad, {"info_requested"} | TERMINAL, timeout=60)
            assert body["stage"] == "info_requested", body
            assert any(blank_id in p and "clearer copy" in p for p in body["problems"]), body["problems"]
            assert any(n["kind"] == "info_request" for n in body["notices"]), body["notices"]
            return apps, bad, blank_id

    apps, bad, _ = asyncio.run(drive())
    attempts = asyncio.run(_max_attempts(stack, apps[0], ("analyze_application", "analyze_document", "analyze_notes")))
    assert attempts > 1, "the NLP activities should have been retried while the service was down"
    # the worker's structured log names the workflow of every failed attempt (telemetry.LogContextInterceptor)
    lines = [json.loads(x) for x in stack.procs["worker"].log.read_text().splitlines() if x.startswith("{")]
    failed = {x.get("workflow_id") for x in lines if x.get("event") == "activity_failed"}
    assert f"application-{apps[0]}" in failed, sorted(failed)[:5]


def test_worker_serves_temporal_sdk_metrics(stack: FaultStack) -> None:
    """CREDITFLOW_WORKER_METRICS_PORT turns on the Temporal SDK's Prometheus endpoint in the worker."""
    async def drive() -> None:
        async with httpx.AsyncClient(base_url=stack.api, timeout=60) as http:
            a = await submit_case(http, stack.tokens["applicant"], DECLINE, key="metrics-1")
            await wait_stage(http, stack.tokens["applicant"], a, TERMINAL, timeout=90)

    asyncio.run(drive())
    text = httpx.get(stack.worker_metrics, timeout=10).text
    assert "temporal_activity_execution_latency" in text and 'activity_type="decide_application"' in text, text[:500]
    assert "temporal_workflow_task_execution_latency" in text
    assert "creditflow_decision_latency" in text and 'outcome="declined"' in text  # our own histogram


async def _max_attempts(stack: FaultStack, app_id: str, types: tuple[str, ...]) -> int:
    """Highest attempt number of the given activity types in the workflow history (a retry = attempt > 1)."""
    from temporalio.client import Client

    from creditflow.temporal_client import data_converter

    client = await Client.connect(stack.settings.temporal_address, data_converter=data_converter(stack.settings))
    history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
    scheduled: dict[int, str] = {}
    best = 0
    for ev in history.events:
        if ev.HasField("activity_task_scheduled_event_attributes"):
            scheduled[ev.event_id] = ev.activity_task_scheduled_event_attributes.activity_type.name
        if ev.HasField("activity_task_started_event_attributes"):
            a = ev.activity_task_started_event_attributes
            if scheduled.get(a.scheduled_event_id) in types:
                best = max(best, a.attempt)
    return best


# ------------------------------------------------------------------------------------------ Temporal
def test_temporal_restart_resumes_workflows_waiting_in_review(stack: FaultStack) -> None:
    """Restart the Temporal dev server on the same SQLite file with applications waiting in review:
    they are still there afterwards and an officer can claim and approve them."""
    tok, officer = stack.tokens["applicant"], auth(stack.tokens["officer"])
    temporal = stack.procs["temporal"]

    async def before() -> list[str]:
        async with httpx.AsyncClient(base_url=stack.api, timeout=60) as http:
            apps = [await submit_case(http, tok, REFER, key=f"restart-{i}") for i in range(2)]
            for a in apps:
                assert (await wait_stage(http, tok, a, {"in_review"} | TERMINAL))["stage"] == "in_review"
            return apps

    apps = asyncio.run(before())
    temporal.stop()
    time.sleep(1.0)
    temporal.start()

    async def after() -> None:
        async with httpx.AsyncClient(base_url=stack.api, timeout=60) as http:
            for a in apps:
                body = await wait_stage(http, tok, a, {"in_review"}, timeout=60)
                assert body["live"] is True
                deadline = time.monotonic() + 60
                while True:  # API and worker reconnect on their own; the claim works once they have
                    r = await http.post(f"/v1/review/tasks/{a}/claim", headers=officer)
                    if r.status_code == 200 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(1.0)
                assert r.status_code == 200, r.text
                r = await http.post(f"/v1/review/tasks/{a}/decision", headers=officer,
                                    json={"action": "approve", "comment": "Checked after the server restart."})
                assert r.status_code == 200, r.text
            for a in apps:
                body = await wait_stage(http, tok, a, {"approved"}, timeout=90)
                assert body["decision"]["decided_by"] == ["demo-officer"]

    asyncio.run(after())
    rows = _rows(stack.settings.db_url, apps)
    _assert_exactly_once(rows, {a: "approved" for a in apps})


# ------------------------------------------------------------------------------------------ database
def _need_pg(stack: FaultStack) -> dict:
    if not stack.pg:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return stack.pg


def test_postgres_end_to_end_application(stack: FaultStack) -> None:
    """One application through API + worker on PostgreSQL (its own schema): approved automatically,
    one decision row, evidence that verifies. Keeps the PostgreSQL path inside the normal `make test`."""
    pg = _need_pg(stack)
    tok = stack.tokens["applicant"]

    async def drive() -> str:
        async with httpx.AsyncClient(base_url=pg["api"], timeout=60) as http:
            a = await submit_case(http, tok, APPROVE, key="pg-e2e")
            body = await wait_stage(http, tok, a, TERMINAL | {"in_review", "info_requested"}, timeout=120)
            assert body["stage"] == "approved" and body["decision"]["decided_by"] == "auto", body
            return a

    app_id = asyncio.run(drive())
    rows = _rows(pg["direct_url"], [app_id])
    _assert_exactly_once(rows, {app_id: "approved"})
    verify = _ledger_verify(str(stack.var), pg["direct_url"])
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_database_unreachable_gives_503_and_writes_nothing(stack: FaultStack) -> None:
    """PostgreSQL cut off from the API: POST /v1/applications answers 503 problem+json and nothing is
    written; once the database is back, the retry with the same Idempotency-Key creates exactly one."""
    pg = _need_pg(stack)
    tok = stack.tokens["applicant"]
    key = "pg-down-1"
    proxy = pg["proxy"]

    async def drive() -> str:
        async with httpx.AsyncClient(base_url=pg["api"], timeout=60) as http:
            proxy.cut()
            try:
                for _ in range(2):  # first with broken pooled connections, then with refused new ones
                    r = await http.post("/v1/applications", json=APPROVE["body"],
                                        headers={**auth(tok), "Idempotency-Key": key})
                    assert r.status_code == 503, (r.status_code, r.text)
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert r.json()["status"] == 503 and r.json()["title"]
            finally:
                proxy.restore()
            r = await http.post("/v1/applications", json=APPROVE["body"], headers={**auth(tok), "Idempotency-Key": key})
            assert r.status_code == 201, r.text
            return r.json()["id"]

    app_id = asyncio.run(drive())
    eng = sa.create_engine(pg["direct_url"])
    try:
        with eng.connect() as c:
            rows = c.execute(sa.text("SELECT id FROM applications WHERE idempotency_key = :k"), {"k": key}).all()
    finally:
        eng.dispose()
    assert [r[0] for r in rows] == [app_id]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_duplicate_submissions_create_one_application(stack: FaultStack, backend: str) -> None:
    """12 concurrent POSTs with one Idempotency-Key against a real API process: one application, every
    answer names it, one workflow."""
    if backend == "postgresql":
        base, db_url = _need_pg(stack)["api"], stack.pg["direct_url"]  # type: ignore[index]
    else:
        base, db_url = stack.api, stack.settings.db_url
    tok = stack.tokens["applicant"]
    key = f"dup-{backend}"

    async def drive() -> set[str]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            rs = await asyncio.gather(*(http.post("/v1/applications", json=APPROVE["body"],
                                                  headers={**auth(tok), "Idempotency-Key": key}) for _ in range(12)))
        assert all(r.status_code == 201 for r in rs), [(r.status_code, r.text[:200]) for r in rs]
        return {r.json()["id"] for r in rs}

    ids = asyncio.run(drive())
    assert len(ids) == 1
    eng = sa.create_engine(db_url)
    try:
        with eng.connect() as c:
            n = c.execute(sa.text("SELECT count(*) FROM applications WHERE idempotency_key = :k"), {"k": key}).scalar()
    finally:
        eng.dispose()
    assert n == 1
