"""Replay committed credit-line histories against the current workflow code.

A change that would make a live line non-deterministic (reordered activities, a new timer,
different commands) fails here. Regenerate on purpose only:
`.venv/bin/python tests/histories/generate_credit_line.py`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.helpers import history_indexing
from workflows.credit_line import CreditLineWorkflow

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("credit_line_*.json"))


def test_there_is_a_history_to_replay() -> None:
    assert HISTORIES, "run tests/histories/generate_credit_line.py"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_replay(path: Path) -> None:
    text = path.read_text()
    events = json.loads(text)["events"]
    # the committed history covers the interesting commands, including continue-as-new
    kinds = {e["eventType"] for e in events}
    assert {"EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW", "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
            "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED", "EVENT_TYPE_TIMER_FIRED",
            "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"} <= kinds
    history = WorkflowHistory.from_json(f"credit-line-{path.stem}", text)
    result = await Replayer(workflows=[CreditLineWorkflow], data_converter=pydantic_data_converter
                            ).replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def _markers_and_activities(stem: str) -> tuple[set[str], list[str]]:
    import base64

    events = json.loads((HISTORIES[0].parent / f"{stem}.json").read_text())["events"]
    patches, scheduled = set(), []
    for e in events:
        m = e.get("markerRecordedEventAttributes")
        if m and m.get("markerName") == "core_patch":
            for p in m.get("details", {}).get("patch-data", {}).get("payloads", []):
                data = json.loads(base64.b64decode(p.get("data", "")) or b"{}")
                patches.add(data.get("id") if isinstance(data, dict) else str(data))
        a = e.get("activityTaskScheduledEventAttributes")
        if a:
            scheduled.append(a["activityType"]["name"])
    return patches, scheduled


def test_both_sides_of_line_local_steps_are_replayed() -> None:
    """`line-local-steps`: the first history predates it (short steps are regular activities), the
    _v2 history has the marker and sends only NLP and alert-raising events through the server."""
    old_patches, old_acts = _markers_and_activities("credit_line_first_run")
    new_patches, new_acts = _markers_and_activities("credit_line_first_run_v2")
    assert "line-local-steps" not in old_patches and "load_line_policy" in old_acts
    assert "line-local-steps" in new_patches
    assert set(new_acts) <= {"analyze_servicing_note", "record_line_event"}
    assert "load_line_policy" not in new_acts and "evaluate_early_warning" not in new_acts


def test_both_sides_of_opening_indexed_lines_are_replayed() -> None:
    """A line started bare (_v2) upserts its bucket in the first task; one its parent starts already
    indexed as current and off the watch list (_v3) upserts only when that changes."""
    def opening(stem: str) -> tuple[set[str], list[set[str]]]:
        start, upserts = history_indexing(HISTORIES[0].parent / f"{stem}.json")
        first_task = min(task for task, _ in upserts)
        return start, [keys for task, keys in upserts if task == first_task]

    bare_start, bare_first = opening("credit_line_first_run_v2")
    indexed_start, indexed_first = opening("credit_line_first_run_v3")
    assert not bare_start and any("CreditBucket" in u for u in bare_first)
    assert indexed_start == {"CreditBucket", "CreditWatchList"}
    assert not any("CreditBucket" in u for u in indexed_first)
