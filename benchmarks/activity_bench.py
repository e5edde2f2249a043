"""The application's own work per decision: CPU of each activity a clear-cut automatic approval runs,
in one process, without a Temporal server; prints JSON.

    .venv/bin/python benchmarks/activity_bench.py [N] [--repeat 3]

Why: the ratio runs (workflow_bench.py) swing by +-15% with the machine, because they share two cores
with a dev server and measure whole processes. This isolates what creditflow's own code costs for one
application (store, evidence log, decision engine, stored-analysis reuse) with nothing else running:
the four steps of a clear approval after `submit`, run through temporalio's ActivityEnvironment on a
real SQLite database (WAL, synchronous=FULL, as `creditflow up`), blob store and evidence log.

Setup (not timed): N applications created and their documents and notes stored with the analyses the
API stores at upload and creation (the NLP pipeline runs in this process once per text). Timed, per
application: `collect_stored_analyses` (a local activity since the `stored-analyses-first` patch; until
then `analyze_application` did the same work as a regular one: reads and checks the stored analyses,
extracts text, marks the documents analysed), `decide_application` (decision engine + decision record),
and `record_step` for the automatic decision and for the final approval (evidence record + application
row, one transaction).
Figures are ms of process CPU per application, the best of `--repeat` passes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STEPS = ("collect_stored_analyses", "decide_application", "record_step:auto", "record_step:final")


def _digest(analysis: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(analysis, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _prepare(n: int, var: Path) -> tuple[Any, Any, list[tuple[str, list[Any]]]]:
    """N stored applications of the demo's clear approval, as the API leaves them before `submit`."""
    from creditflow.activities.application import ApplicationActivities
    from creditflow.config import Settings
    from creditflow.demo import demo_cases
    from creditflow.nlp import analyze
    from creditflow.schemas import ApplicationCreate
    from creditflow.store import repo
    from creditflow.store.blobs import BlobStore
    from creditflow.store.db import Database
    from workflows.credit_application_types import AnalyzeDocumentInput

    case = next(c for c in demo_cases() if c["label"] == "clear approval")
    settings = Settings(env="test", var_dir=var)
    settings.ensure_var()
    db = Database(settings.db_url)
    db.create_all()
    blobs = BlobStore(settings.blob_dir)
    docs = [(text.encode(), json.loads(analyze(text, "document").model_dump_json())) for text in case["documents"]]
    notes = [json.loads(analyze(text, "note").model_dump_json()) for text in case["body"]["notes"]]
    body = ApplicationCreate.model_validate(case["body"])
    apps = []
    for i in range(n):
        with db.session() as s:
            app, _ = repo.create_application(s, "bench-applicant", body, f"activity-bench-{i}")
            inputs = []
            for data, analysis in docs:
                sha = blobs.put(data)
                doc_id = repo.add_document(s, app.id, sha, "text/plain", len(data), None, analysis, _digest(analysis))
                inputs.append(AnalyzeDocumentInput(application_id=app.id, document_id=doc_id, sha256=sha))
            for index, analysis in enumerate(notes):
                repo.save_note_analysis(s, app.id, index, analysis, _digest(analysis))
            apps.append((app.id, inputs))
    return ApplicationActivities(settings, db), db, apps


async def _one(acts: Any, env: Any, local: Any, app_id: str, documents: list[Any], spent: dict[str, float]) -> str:
    from workflows.credit_application_types import (
        AnalyzeApplicationInput,
        DecideActivityInput,
        EvidenceInput,
        OutcomeInput,
        StepInput,
    )

    at = datetime.now(timezone.utc)
    c0 = time.process_time()
    res = await local.run(acts.collect_stored_analyses,
                          AnalyzeApplicationInput(application_id=app_id, notes=True, documents=documents))
    c1 = time.process_time()
    assert len(res.documents) == len(documents) and res.notes is not None, "an analysis was not stored"
    signals = [s for r in res.documents for s in r.signals] + (res.notes.signals if res.notes else [])
    d = await env.run(acts.decide_application, DecideActivityInput(
        application_id=app_id, documents=[r.facts for r in res.documents], signals=signals, as_of=at.date()))
    c2 = time.process_time()
    await env.run(acts.record_step, StepInput(
        evidence=EvidenceInput(application_id=app_id, step="auto-decision-1", stage="policy", actor="auto", at=at,
                               inputs={"decision_input": d.inputs_sha256}, model_version=d.model_version,
                               policy_version=d.policy_version, outcome=d.outcome,
                               reasons=[r.model_dump() for r in d.reasons], details={"grade": d.grade}),
        outcome=OutcomeInput(application_id=app_id, step="auto-decision-1", stage="policy",
                             status="decided_automatically")))
    c3 = time.process_time()
    view = {"outcome": "approve", "grade": d.grade, "score": d.score, "credit_limit": d.credit_limit,
            "plans": [p.model_dump() for p in d.plans], "reasons": [], "decided_by": "auto"}
    await env.run(acts.record_step, StepInput(
        evidence=EvidenceInput(application_id=app_id, step="final-1", stage="approved", actor="auto", at=at,
                               outcome="approved", policy_version=d.policy_version, model_version=d.model_version,
                               details={"grade": d.grade, "credit_limit": d.credit_limit}),
        outcome=OutcomeInput(application_id=app_id, step="final-1", stage="approved", status="approved",
                             decision=view, notice_kind="decision_approved")))
    c4 = time.process_time()
    for step, spent_s in zip(STEPS, (c1 - c0, c2 - c1, c3 - c2, c4 - c3)):
        spent[step] += spent_s
    return d.outcome


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "src"), str(root)]
    for k, v in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(k, v)
    from temporalio.testing import ActivityEnvironment

    n = max(10, min(args.n, 2000))
    best: dict[str, float] = {}
    outcomes: set[str] = set()
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="creditflow-actbench-") as tmp:
            acts, db, apps = _prepare(n + 5, Path(tmp))
            env = ActivityEnvironment()
            local = ActivityEnvironment()
            local.info = dataclasses.replace(local.info, is_local=True)
            spent = dict.fromkeys(STEPS, 0.0)

            async def run_all() -> None:
                for i, (app_id, docs) in enumerate(apps):
                    if i == 5:  # the first few load the policy, scorecard and rule parser: not per-application work
                        spent.update(dict.fromkeys(STEPS, 0.0))
                    outcomes.add(await _one(acts, env, local, app_id, docs, spent))

            asyncio.run(run_all())
            db.dispose()
        per_app = {k: v * 1000 / n for k, v in spent.items()}
        if not best or sum(per_app.values()) < sum(best.values()):
            best = per_app
    out = {"n": n, "repeat": args.repeat, "outcomes": sorted(outcomes),
           "cpu_ms_per_application": {k: round(v, 2) for k, v in best.items()},
           "cpu_ms_total": round(sum(best.values()), 2),
           "command": " ".join(["benchmarks/activity_bench.py", *sys.argv[1:]])}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
