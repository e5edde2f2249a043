"""Replaying committed histories catches non-deterministic workflow changes before deploy.

If this fails after a workflow edit, the edit must be guarded with `workflow.patched(...)`;
regenerate histories (`make histories`) only for intended, patched changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.helpers import history_indexing
from workflows.credit_application import CreditApplicationWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("credit_application_*.json"))


def test_histories_are_committed() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"credit_application_approved_auto", "credit_application_declined_auto",
            "credit_application_referred_officer_approved"} <= names


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed"])
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_replay(path: Path, sandboxed: bool) -> None:
    """Both runners: the sandbox (development, tests) and none (production workers,
    CREDITFLOW_WORKER_WORKFLOW_SANDBOX=false) must replay every committed history."""
    from temporalio.worker import UnsandboxedWorkflowRunner

    from workflows.credit_line import CreditLineWorkflow

    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    extra = {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}
    replayer = Replayer(workflows=[CreditApplicationWorkflow, CreditLineWorkflow],
                        data_converter=pydantic_data_converter, **extra)  # type: ignore[arg-type]
    await replayer.replay_workflow(history)


def test_both_sides_of_each_patch_are_covered() -> None:
    """Histories from before and after each patch must both replay: `persist-review-stage` (v1 vs v2),
    `fewer-round-trips` (v1/v2 vs v3), `record-step` (v4 vs v5), `stored-analyses-first` (v5 vs v6)."""
    import base64

    def patches(stem: str) -> set[str]:
        events = json.loads((HISTORIES[0].parent / f"{stem}.json").read_text())["events"]
        found = set()
        for e in events:
            details = e.get("markerRecordedEventAttributes", {}).get("details", {})
            for payloads in details.values():
                for p in payloads.get("payloads", []):
                    data = json.loads(base64.b64decode(p.get("data", "")) or b"{}")
                    found.add(data.get("id") if isinstance(data, dict) else str(data))
        return found

    assert "persist-review-stage" not in patches("credit_application_referred_officer_approved")
    assert "persist-review-stage" in patches("credit_application_referred_officer_approved_v2")
    for case in ("approved_auto", "declined_auto", "referred_officer_approved"):
        assert "fewer-round-trips" not in patches(f"credit_application_{case}_v2")
        assert "fewer-round-trips" in patches(f"credit_application_{case}_v3")
        assert "record-step" not in patches(f"credit_application_{case}_v4")
        assert "record-step" in patches(f"credit_application_{case}_v5")
        assert "stored-analyses-first" not in patches(f"credit_application_{case}_v5")
        # the newest patch implies the older ones: a new run records only its marker
        v6 = patches(f"credit_application_{case}_v6")
        assert "stored-analyses-first" in v6 and not v6 & {"fewer-round-trips", "record-step", "persist-review-stage"}


def test_local_store_steps_are_markers_not_activities() -> None:
    """After `fewer-round-trips`, only NLP analysis goes through the server, as one activity for the notes
    and all documents; decision, evidence and persistence are local-activity markers inside workflow tasks."""
    def scheduled(stem: str) -> list[str]:
        events = json.loads((HISTORIES[0].parent / f"{stem}.json").read_text())["events"]
        return [e["activityTaskScheduledEventAttributes"]["activityType"]["name"] for e in events
                if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]

    assert "record_outcome" in scheduled("credit_application_approved_auto_v2")
    assert scheduled("credit_application_approved_auto_v3") == ["analyze_application"]


def _started_indexed(stem: str) -> tuple[set[str], list[set[str]]]:
    start, upserts = history_indexing(HISTORIES[0].parent / f"{stem}.json")
    return start, [keys for _, keys in upserts]


def test_both_sides_of_indexing_at_start_are_replayed() -> None:
    """Runs started bare (v3) upsert their stage in the first task; runs the API starts already indexed
    (v4) do not. The choice reads the start event, so both replay without a patch marker."""
    bare, bare_upserts = _started_indexed("credit_application_approved_auto_v3")
    indexed, indexed_upserts = _started_indexed("credit_application_approved_auto_v4")
    assert "CreditStage" not in bare and sum("CreditStage" in u for u in bare_upserts) == 3
    assert {"CreditStage", "CreditProduct", "CreditAmount"} <= indexed
    assert sum("CreditStage" in u for u in indexed_upserts) == 2


def _local_activities(stem: str) -> list[str]:
    events = json.loads((HISTORIES[0].parent / f"{stem}.json").read_text())["events"]
    return [e["markerRecordedEventAttributes"]["details"]["data"]["payloads"][0]["data"] for e in events
            if e.get("markerRecordedEventAttributes", {}).get("markerName") == "core_local_activity"]


def _activity_types(stem: str) -> list[str]:
    import base64

    return [json.loads(base64.b64decode(d))["activity_type"] for d in _local_activities(stem)]


def test_record_step_writes_evidence_and_row_as_one_local_activity() -> None:
    """After `record-step`, an automatic decision is decide + one record per step (the auto decision, the
    final decision): evidence record and application row together, where v4 ran evidence then outcome."""
    assert _activity_types("credit_application_approved_auto_v4") == [
        "decide_application", "record_evidence", "record_outcome", "record_evidence", "record_outcome"]
    assert _activity_types("credit_application_approved_auto_v5") == [
        "decide_application", "record_step", "record_step"]
    officer = _activity_types("credit_application_referred_officer_approved_v5")
    assert "record_evidence" not in officer and officer.count("record_step") == 3  # auto, officer, final


def test_analyses_stored_at_intake_are_collected_locally() -> None:
    """After `stored-analyses-first`, an application submitted through the API (documents analysed at
    upload, notes at creation) is decided with local activities only; one whose analyses are missing
    (`approved_auto_nlp`, started on unanalysed documents) still runs the regular NLP activity for them."""
    def scheduled(stem: str) -> list[str]:
        events = json.loads((HISTORIES[0].parent / f"{stem}.json").read_text())["events"]
        return [e["activityTaskScheduledEventAttributes"]["activityType"]["name"] for e in events
                if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]

    assert scheduled("credit_application_approved_auto_v6") == []
    assert _activity_types("credit_application_approved_auto_v6") == [
        "collect_stored_analyses", "decide_application", "record_step", "record_step"]
    assert scheduled("credit_application_approved_auto_nlp_v6") == ["analyze_application"]
    assert _activity_types("credit_application_approved_auto_nlp_v6")[0] == "collect_stored_analyses"
