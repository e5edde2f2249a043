"""Intake: documents uploaded before `submit` travel with the submit signal; later uploads (answering an
information request) are signalled one by one. Real API, Temporal dev server, worker, NLP service, DB."""

from __future__ import annotations

import asyncio
import time

import httpx

from creditflow.demo import bank_statement, demo_cases, submit_case
from workflows.credit_application_types import ApplicationStatus

CASES = {c["label"]: c for c in demo_cases()}


def _signals(history) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")]


async def _stage(http: httpx.AsyncClient, token: str, app_id: str, want: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await http.get(f"/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token}"})).json()
        if body["stage"] in want or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.3)


async def test_documents_travel_with_submit_and_later_uploads_are_signalled(api_url, tokens, temporal_env, db) -> None:  # type: ignore[no-untyped-def]
    token = tokens["applicant"]
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        # a complete application: three uploads, one submit; no per-upload signal
        from creditflow.demo import create_case
        from creditflow.store import repo

        app_id = await create_case(http, token, CASES["clear approval"])
        with db.session() as s:  # the analyses the API stored at upload, before the worker sees them
            at_upload = {d.id: d.analysis_sha256 for d in repo.documents_for(s, app_id)}
        r = await http.post(f"/v1/applications/{app_id}/submit", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 202, r.text
        body = await _stage(http, token, app_id, {"approved"})
        assert body["stage"] == "approved", body
        handle = temporal_env.client.get_workflow_handle(body["workflow_id"])
        assert _signals(await handle.fetch_history()) == ["submit"]
        status = await handle.query("status", result_type=ApplicationStatus)
        assert [d.status for d in status.analyzed_documents] == ["analyzed"] * 3
        # the analysis stored at upload is the one the decision used: the worker's hash of it is the API's
        assert {d.facts.document_id: d.facts.analysis_sha256 for d in status.analyzed_documents} == at_upload

        # missing bank statement: the information request is answered by an upload after submit
        case = CASES["incomplete (bank statement missing)"]
        app_id = await submit_case(http, token, case)
        body = await _stage(http, token, app_id, {"info_requested"})
        assert body["stage"] == "info_requested", body
        handle = temporal_env.client.get_workflow_handle(body["workflow_id"])
        r = await http.post(f"/v1/applications/{app_id}/documents", headers={"Authorization": f"Bearer {token}"},
                            files={"file": ("bank.txt", bank_statement("Dan Wu", 2600, 5000, 4300).encode(),
                                            "text/plain")})
        assert r.status_code == 201, r.text
        body = await _stage(http, token, app_id, {"approved", "declined", "in_review", "counteroffered"})
        assert body["stage"] != "info_requested", body
        assert _signals(await handle.fetch_history()) == ["submit", "document_added"]


async def test_notes_are_analysed_when_the_application_is_created(api_url, tokens, db, settings) -> None:  # type: ignore[no-untyped-def]
    """The notes' analyses are stored at creation (as documents' are at upload), so their signals exist
    before `submit`; the decision then uses exactly those (same hashes in the workflow's state)."""
    from creditflow.demo import create_case
    from creditflow.store import repo

    token = tokens["applicant"]
    case = CASES["clear approval"]
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        app_id = await create_case(http, token, case, key="notes-at-creation")
        with db.session() as s:
            stored = repo.note_analysis_payloads(s, app_id)
        assert sorted(stored) == list(range(len(case["body"]["notes"]))) and stored[0]["kind"] == "note"
        negated = [sig for sig in stored[0]["risk_signals"] if sig["code"] == "DELINQUENCY"]
        assert negated and negated[0]["polarity"] == "negated"  # "no late payments"

        settings.nlp_url = "http://127.0.0.1:9"  # a second application while the NLP service is unreachable
        r = await http.post("/v1/applications", json=case["body"], headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text  # accepted; the worker analyses its notes later
        with db.session() as s:
            assert repo.note_analysis_payloads(s, r.json()["id"]) == {}


def _upserted_keys(history) -> list[set[str]]:  # type: ignore[no-untyped-def]
    return [set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
            for e in history.events if e.HasField("upsert_workflow_search_attributes_event_attributes")]


async def test_a_new_application_is_indexed_when_created_and_its_line_when_opened(api_url, tokens, temporal_env) -> None:  # type: ignore[no-untyped-def]
    """The API starts the workflow with its stage, product and amount, and the approval starts the credit
    line current and off the watch list: both are searchable before any workflow code runs, and neither
    first workflow task writes them again (a visibility write each, benchmarks/RESULTS.md)."""
    from workflows import search_attributes as sa

    token = tokens["applicant"]
    case = CASES["clear approval"]
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        r = await http.post("/v1/applications", json=case["body"], headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        handle = temporal_env.client.get_workflow_handle(f"application-{app_id}")
        attrs = (await handle.describe()).typed_search_attributes  # straight from the start request
        assert attrs.get(sa.CREDIT_STAGE) == "awaiting_documents"
        assert attrs.get(sa.CREDIT_PRODUCT) == case["body"]["product"]
        assert attrs.get(sa.CREDIT_AMOUNT) == float(case["body"]["requested_amount"])

        for i, text in enumerate(case["documents"]):
            r = await http.post(f"/v1/applications/{app_id}/documents", headers={"Authorization": f"Bearer {token}"},
                                files={"file": (f"doc{i}.txt", text.encode(), "text/plain")})
            assert r.status_code == 201, r.text
        r = await http.post(f"/v1/applications/{app_id}/submit", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 202), r.text
        body = await _stage(http, token, app_id, {"approved"})
        assert body["stage"] == "approved", body

    # only the stages that change are upserted: the outcome (analysis needed no NLP call, so `analyzing`
    # passed within one workflow task and was not indexed; see the next test)
    stages = [k for k in _upserted_keys(await handle.fetch_history()) if "CreditStage" in k]
    assert len(stages) == 1, stages
    line = temporal_env.client.get_workflow_handle(f"credit-line-{app_id}")
    line_attrs = (await line.describe()).typed_search_attributes
    assert (line_attrs.get(sa.CREDIT_BUCKET), line_attrs.get(sa.CREDIT_WATCH_LIST)) == ("current", False)
    deadline = time.monotonic() + 60
    while True:  # the line's first task is done once its daily timer is set
        hist = await line.fetch_history()
        if any(e.HasField("timer_started_event_attributes") for e in hist.events):
            break
        assert time.monotonic() < deadline, "the line never finished opening"
        await asyncio.sleep(0.2)
    assert all("CreditBucket" not in k for k in _upserted_keys(hist))


def _local_activities(history) -> list[str]:  # type: ignore[no-untyped-def]
    import json

    return [json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
            for e in history.events if e.HasField("marker_recorded_event_attributes")
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"]


def _scheduled(history) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")]


async def test_analyses_stored_at_intake_need_no_activity_round_trip(api_url, tokens, temporal_env, db) -> None:  # type: ignore[no-untyped-def]
    """`stored-analyses-first`: documents analysed at upload and notes analysed at creation are collected
    by a local activity, so an application submitted through the API is decided without a regular
    activity (no server round trip, no `analyzing` index write). What the API could not analyse still
    goes to `analyze_application`, and only then is `analyzing` indexed."""
    from creditflow.demo import create_case
    from creditflow.store import repo

    token = tokens["applicant"]
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        app_id = await create_case(http, token, CASES["clear approval"], key="stored-first-1")
        assert (await http.post(f"/v1/applications/{app_id}/submit", headers=h)).status_code == 202
        body = await _stage(http, token, app_id, {"approved"})
        assert body["stage"] == "approved", body
        history = await temporal_env.client.get_workflow_handle(body["workflow_id"]).fetch_history()
        assert _scheduled(history) == []
        assert _local_activities(history) == ["collect_stored_analyses", "decide_application", "record_step",
                                              "record_step"]
        assert len([k for k in _upserted_keys(history) if "CreditStage" in k]) == 1  # the outcome only
        stored_signals = {s["code"] for s in body["risk_signals"]}

        # the notes' analyses lost (as when the NLP service was down at creation): the documents still
        # come from the local activity, the notes from the regular one, and the decision is the same
        app_id = await create_case(http, token, CASES["clear approval"], key="stored-first-2")
        with db.session() as s:
            s.execute(repo.NOTE_ANALYSES.delete().where(repo.NOTE_ANALYSES.c.application_id == app_id))
        assert (await http.post(f"/v1/applications/{app_id}/submit", headers=h)).status_code == 202
        body = await _stage(http, token, app_id, {"approved"})
        assert body["stage"] == "approved", body
        handle = temporal_env.client.get_workflow_handle(body["workflow_id"])
        history = await handle.fetch_history()
        assert _scheduled(history) == ["analyze_application"]
        assert _local_activities(history)[0] == "collect_stored_analyses"
        stage_upserts = [i for i, e in enumerate(history.events) if "CreditStage" in
                         e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields]
        scheduled_at = next(i for i, e in enumerate(history.events)
                            if e.HasField("activity_task_scheduled_event_attributes"))
        assert len(stage_upserts) == 2 and stage_upserts[0] < scheduled_at  # `analyzing`, then the outcome
        assert {s["code"] for s in body["risk_signals"]} == stored_signals
        status = await handle.query("status", result_type=ApplicationStatus)
        assert [d.status for d in status.analyzed_documents] == ["analyzed"] * 3
        with db.session() as s:  # the worker stored the notes' analyses it made
            assert sorted(repo.note_analysis_payloads(s, app_id)) == [0]
