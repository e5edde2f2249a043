"""The `creditflow` command as a user runs it: a subprocess with its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditflow.config import Settings

CLI = [sys.executable, "-m", "creditflow.cli"]


def run(args: list[str], var: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "CREDITFLOW_VAR_DIR": str(var), **env}
    e.pop("CREDITFLOW_DATABASE_URL", None)
    return subprocess.run(CLI + args, capture_output=True, text=True, env=e, input=stdin, timeout=300)


@pytest.mark.parametrize("cmd", [["up"], ["worker"], ["api"], ["nlp"], ["token"], ["analyze"], ["model", "evaluate"],
                                 ["model", "train"], ["ledger", "verify"], ["ledger", "prove"], ["ledger", "witness"],
                                 ["ledger", "publish"], ["policy", "simulate"], ["report", "overrides"]])
def test_every_command_has_help(cmd: list[str], tmp_path: Path) -> None:
    r = run(cmd + ["--help"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout


def test_token_prints_only_a_verifiable_jwt(tmp_path: Path) -> None:
    r = run(["token", "--role", "officer", "--sub", "olga"], tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    from creditflow.security.tokens import TokenService

    p = TokenService(Settings(var_dir=tmp_path)).verify(token)
    assert (p.sub, p.role) == ("olga", "officer")
    bad = run(["token", "--role", "root", "--sub", "x"], tmp_path)
    assert bad.returncode != 0 and "unknown role" in bad.stderr


def test_analyze_file_and_stdin(tmp_path: Path) -> None:
    from creditflow.demo import pay_stub

    doc = tmp_path / "stub.txt"
    doc.write_text(pay_stub("Alice Martin", "Acme Logistics Inc", 6000, 4520))
    r = run(["analyze", str(doc)], tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["doc_type"] == "pay_stub" and out["fields"]["gross_pay"]["value"] == 6000.0
    r = run(["analyze", "-"], tmp_path, stdin="She said there were no late payments but she has a payday loan.")
    out = json.loads(r.stdout)
    assert out["kind"] == "note"
    assert {(s["code"], s["polarity"]) for s in out["risk_signals"]} >= {("HIGH_COST_BORROWING", "affirmed")}
    missing = run(["analyze", str(tmp_path / "nope.txt")], tmp_path)
    assert missing.returncode != 0 and "no such file" in missing.stderr


def test_model_evaluate_json_contract(tmp_path: Path) -> None:
    r = run(["model", "evaluate", "--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"auc_cv", "ks_cv", "folds", "dataset"}
    assert out["folds"] == 5 and 0.5 < out["auc_cv"] <= 1 and 0 < out["ks_cv"] <= 1


def test_ledger_verify_detects_tampering_and_prove_prints_proofs(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    import sqlalchemy as sa

    from creditflow.ledger.log import EvidenceEntry, EvidenceLog
    from creditflow.store.db import Database
    from creditflow.store.migrate import upgrade

    settings = Settings(var_dir=tmp_path)
    upgrade(settings)
    db = Database(settings.db_url)
    log = EvidenceLog(db, settings)
    for i in range(3):
        log.append(EvidenceEntry(idempotency_key=f"k{i}", application_id="app1", stage="policy", actor="auto",
                                 recorded_at=datetime(2026, 1, 1, tzinfo=timezone.utc), outcome="approve"))
    assert run(["ledger", "verify"], tmp_path).returncode == 0
    proof = run(["ledger", "prove", "app1"], tmp_path)
    assert proof.returncode == 0 and len(json.loads(proof.stdout)["records"]) == 3
    assert run(["ledger", "prove", "nobody"], tmp_path).returncode == 1
    with db.engine.begin() as c:  # an insider edits a record behind the log's back
        names = [r[0] for r in c.execute(sa.text(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='evidence_records'"))]
        for n in names:
            c.execute(sa.text(f"DROP TRIGGER {n}"))
        c.execute(sa.text("UPDATE evidence_records SET payload = replace(payload, 'approve', 'decline') WHERE seq = 1"))
    r = run(["ledger", "verify"], tmp_path)
    assert r.returncode == 1 and "seq=1" in r.stderr


def test_witness_cosigns_published_heads(tmp_path: Path) -> None:
    import time
    from datetime import datetime, timezone

    import httpx

    from creditflow.ledger.log import EvidenceEntry, EvidenceLog
    from creditflow.store.db import Database
    from creditflow.store.migrate import upgrade
    from tests.conftest import free_port

    settings = Settings(var_dir=tmp_path)
    upgrade(settings)
    log = EvidenceLog(Database(settings.db_url), settings)
    log.append(EvidenceEntry(idempotency_key="k0", application_id="a", stage="policy", actor="auto",
                             recorded_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    pub = tmp_path / "ledger-ed25519.pub.pem"
    assert pub.exists()
    port = free_port()
    e = {**os.environ, "CREDITFLOW_VAR_DIR": str(tmp_path)}
    proc = subprocess.Popen(CLI + ["ledger", "witness", "--trust-log", str(pub), "--state-dir",
                                   str(tmp_path / "w"), "--port", str(port)], env=e)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/witness", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = run(["ledger", "publish", "--witness", f"http://127.0.0.1:{port}"], tmp_path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["tree_size"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
