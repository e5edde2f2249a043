"""The witness cosigns only heads that extend what it saw; the log stores and checks cosignatures."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from creditflow.config import Settings
from creditflow.ledger.log import EvidenceLog
from creditflow.ledger.models import create_ledger_tables
from creditflow.ledger.verify import verify_log
from creditflow.ledger.witness import (
    CosignRequest,
    Witness,
    WitnessConflict,
    WitnessRefused,
    create_witness_app,
    http_witness,
    verify_cosignature,
)
from creditflow.store.db import Database

from .conftest import drop_guard, entry


@pytest.fixture
def witness(tmp_path: Path, log: EvidenceLog) -> Witness:
    return Witness(tmp_path / "witness", [log.public_key])


def test_cosigns_growth_and_state_survives_restart(
    log: EvidenceLog, witness: Witness, db: Database, settings: Settings, tmp_path: Path
) -> None:
    log.append(entry(0))
    first = log.cosign_latest(witness.cosign)
    assert verify_cosignature(first, witness.public_key) is None
    for n in range(1, 7):
        log.append(entry(n))
    second = log.cosign_latest(witness.cosign, witness_size=1)
    assert (second.tree_size, second.witness_key_id) == (7, witness.key_id)
    assert witness.last_head(log.key_id) == (7, second.root_hash)
    restarted = Witness(tmp_path / "witness", [log.public_key])
    assert restarted.key_id == witness.key_id and restarted.last_head(log.key_id) == (7, second.root_hash)
    assert [c.witness_key_id for c in log.cosignatures()] == [witness.key_id]
    report = verify_log(db, settings, trusted_witnesses={witness.key_id: witness.public_key})
    assert report.ok and report.cosignatures_checked == 2, report


def test_log_recovers_when_it_guessed_the_witness_size_wrong(log: EvidenceLog, witness: Witness) -> None:
    for n in range(3):
        log.append(entry(n))
    log.cosign_latest(witness.cosign)
    log.append(entry(3))
    head = log.latest_head()
    assert head is not None
    with pytest.raises(WitnessConflict) as conflict:
        witness.cosign(CosignRequest(head=head, old_size=0))
    assert conflict.value.size == 3
    assert log.cosign_latest(witness.cosign, witness_size=0).tree_size == 4


def test_witness_refuses_a_forked_history(
    log: EvidenceLog, witness: Witness, settings: Settings, tmp_path: Path
) -> None:
    """Same signing key, different history (a rewritten log): the witness must refuse."""
    for n in range(4):
        log.append(entry(n))
    log.cosign_latest(witness.cosign)
    fork_db = Database(f"sqlite:///{tmp_path / 'fork.db'}")
    create_ledger_tables(fork_db.engine)
    fork = EvidenceLog(fork_db, settings)  # same var_dir, so the same key
    assert fork.key_id == log.key_id
    for n in range(6):
        fork.append(entry(n, outcome="approve"))
    head = fork.latest_head()
    assert head is not None
    proof = fork.consistency_proof(4, 6)
    with pytest.raises(WitnessRefused, match="not consistent"):
        witness.cosign(CosignRequest(head=head, old_size=4, consistency_proof=proof))
    assert witness.last_head(log.key_id)[0] == 4  # type: ignore[index]
    fork_db.dispose()


def test_witness_refuses_unknown_logs_and_bad_signatures(log: EvidenceLog, tmp_path: Path) -> None:
    log.append(entry(0))
    head = log.latest_head()
    assert head is not None
    stranger = Witness(tmp_path / "other-witness", [])
    with pytest.raises(WitnessRefused, match="unknown key"):
        stranger.cosign(CosignRequest(head=head))
    friendly = Witness(tmp_path / "w2", [log.public_key])
    bad = head.model_copy(update={"root_hash": "00" * 32})
    with pytest.raises(WitnessRefused, match="invalid signature"):
        friendly.cosign(CosignRequest(head=bad))


def test_http_witness_round_trip(log: EvidenceLog, witness: Witness) -> None:
    client = TestClient(create_witness_app(witness))
    call = http_witness("http://witness", client=client)
    for n in range(2):
        log.append(entry(n))
    assert log.cosign_latest(call).tree_size == 2
    log.append(entry(2))
    assert log.cosign_latest(call, witness_size=0).tree_size == 3  # 409 then retry from 2
    head = log.latest_head()
    assert head is not None
    resp = client.post("/v1/cosign", json={"head": head.model_copy(update={"signature": "AAAA"}).model_dump(),
                                            "old_size": 3})
    assert resp.status_code == 403 and resp.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/witness").json()["key_id"] == witness.key_id


def test_tampered_cosignature_fails_verification(
    log: EvidenceLog, witness: Witness, db: Database, settings: Settings
) -> None:
    for n in range(3):
        log.append(entry(n))
    log.cosign_latest(witness.cosign)
    assert verify_log(db, settings).ok
    drop_guard(db.engine)
    with db.engine.begin() as c:
        c.execute(text("UPDATE evidence_cosignatures SET cosigned_at = cosigned_at + 1"))
    report = verify_log(db, settings)
    assert not report.ok and report.first_bad_seq == 2 and "cosignature" in (report.problem or "")
