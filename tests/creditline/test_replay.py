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
