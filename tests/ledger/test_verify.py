"""verify_log against an attacker with write access to the database (triggers dropped first)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from creditflow.config import Settings
from creditflow.ledger.canonical import canonical_json
from creditflow.ledger.heads import sign_head
from creditflow.ledger.log import EvidenceLog, LedgerCorruptError, chain_hash
from creditflow.ledger.merkle import MerkleTree, leaf_hash
from creditflow.ledger.verify import verify_log
from creditflow.store.db import Database

from .conftest import drop_guard, entry

N = 6
TARGET = 3


@pytest.fixture
def filled(log: EvidenceLog, db: Database, settings: Settings) -> EvidenceLog:
    for n in range(N):
        log.append(entry(n))
    assert verify_log(db, settings).ok
    drop_guard(db.engine)
    return log


def sql(db: Database, stmt: str, **params: object) -> None:
    with db.engine.begin() as c:
        c.execute(text(stmt), params)


def payload_of(db: Database, seq: int) -> str:
    with db.engine.connect() as c:
        return c.execute(text("SELECT payload FROM evidence_records WHERE seq = :s"), {"s": seq}).scalar_one()


def _edit_payload(db: Database) -> None:
    data = json.loads(payload_of(db, TARGET))
    data["outcome"] = "approve" if data["outcome"] != "approve" else "decline"
    sql(db, "UPDATE evidence_records SET payload = :p WHERE seq = :s", p=canonical_json(data).decode(), s=TARGET)


def _edit_payload_keep_leaf_and_chain_consistent(db: Database) -> None:
    """Edits payload and its leaf hash and every later chain hash: only the heads disagree."""
    data = json.loads(payload_of(db, TARGET))
    data["details"]["score"] = 999.0
    payload = canonical_json(data)
    with db.engine.connect() as c:
        prev = bytes.fromhex(c.execute(text("SELECT chain_hash FROM evidence_records WHERE seq = :s"),
                                       {"s": TARGET - 1}).scalar_one())
        leaves = {r[0]: bytes.fromhex(r[1]) for r in c.execute(text("SELECT seq, leaf_hash FROM evidence_records"))}
    leaves[TARGET] = leaf_hash(payload)
    sql(db, "UPDATE evidence_records SET payload = :p, leaf_hash = :l WHERE seq = :s",
        p=payload.decode(), l=leaves[TARGET].hex(), s=TARGET)
    for seq in range(TARGET, N):
        prev = chain_hash(prev, leaves[seq])
        sql(db, "UPDATE evidence_records SET chain_hash = :c WHERE seq = :s", c=prev.hex(), s=seq)


def _swap_rows(db: Database) -> None:
    cols = "idempotency_key, application_id, stage, actor, recorded_at, payload, leaf_hash, chain_hash"
    with db.engine.begin() as c:
        rows = {r[0]: r[1:] for r in c.execute(text(f"SELECT seq, {cols} FROM evidence_records WHERE seq IN (2, 3)"))}
        c.execute(text("DELETE FROM evidence_records WHERE seq IN (2, 3)"))
        for new_seq, old_seq in ((2, 3), (3, 2)):
            params = dict(zip(cols.split(", "), rows[old_seq], strict=True)) | {"seq": new_seq}
            c.execute(text(f"INSERT INTO evidence_records (seq, {cols}) VALUES (:seq, "
                           + ", ".join(f":{k}" for k in cols.split(", ")) + ")"), params)


def _flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


TAMPERS: dict[str, tuple[Callable[[Database], None], int, str]] = {
    "payload edited": (_edit_payload, TARGET, "leaf hash"),
    "payload not canonical": (
        lambda db: sql(db, "UPDATE evidence_records SET payload = :p WHERE seq = :s",
                       p=payload_of(db, TARGET).replace(",", ", ", 1), s=TARGET), TARGET, "canonical"),
    "leaf hash edited": (
        lambda db: sql(db, "UPDATE evidence_records SET leaf_hash = :h WHERE seq = :s",
                       h="ab" * 32, s=TARGET), TARGET, "leaf hash"),
    "chain hash edited": (
        lambda db: sql(db, "UPDATE evidence_records SET chain_hash = :h WHERE seq = :s",
                       h="cd" * 32, s=TARGET), TARGET, "chain hash"),
    "application_id column edited": (
        lambda db: sql(db, "UPDATE evidence_records SET application_id = 'app-other' WHERE seq = :s", s=TARGET),
        TARGET, "application_id"),
    "actor column edited": (
        lambda db: sql(db, "UPDATE evidence_records SET actor = 'officer:mallory' WHERE seq = :s", s=TARGET),
        TARGET, "actor"),
    "recorded_at column edited": (
        lambda db: sql(db, "UPDATE evidence_records SET recorded_at = recorded_at - INTERVAL '1 day' WHERE seq = :s"
                       if db.engine.dialect.name == "postgresql" else
                       "UPDATE evidence_records SET recorded_at = '2020-01-01 00:00:00.000000' WHERE seq = :s",
                       s=TARGET), TARGET, "recorded_at"),
    "payload, leaf and chain rewritten consistently": (
        _edit_payload_keep_leaf_and_chain_consistent, TARGET, "root does not match"),
    "head root edited": (
        lambda db: sql(db, "UPDATE evidence_tree_heads SET root_hash = :h WHERE tree_size = :n",
                       h="ef" * 32, n=TARGET + 1), TARGET, "signature"),
    "head signature edited": (
        lambda db: sql(db, "UPDATE evidence_tree_heads SET signature = :sig WHERE tree_size = :n",
                       sig="A" * 86 + "==", n=TARGET + 1), TARGET, "signature"),
    "head timestamp edited": (
        lambda db: sql(db, "UPDATE evidence_tree_heads SET timestamp = timestamp + 1 WHERE tree_size = :n",
                       n=TARGET + 1), TARGET, "signature"),
    "record deleted": (
        lambda db: sql(db, "DELETE FROM evidence_records WHERE seq = :s", s=TARGET), TARGET, "missing"),
    "newest record deleted, head kept": (
        lambda db: sql(db, "DELETE FROM evidence_records WHERE seq = :s", s=N - 1), N - 1, "missing"),
    "records reordered": (_swap_rows, 2, "reordered"),
    "record appended without a head": (
        lambda db: sql(db, "DELETE FROM evidence_tree_heads WHERE tree_size = :n", n=N), N - 1, "not covered"),
}


@pytest.mark.parametrize("case", list(TAMPERS), ids=list(TAMPERS))
def test_tampering_is_detected_and_first_bad_record_named(
    filled: EvidenceLog, db: Database, settings: Settings, case: str
) -> None:
    tamper, bad_seq, words = TAMPERS[case]
    tamper(db)
    report = verify_log(db, settings)
    assert not report.ok
    assert report.first_bad_seq == bad_seq, report
    assert words in (report.problem or ""), report


def test_forged_heads_with_another_key_are_refused(filled: EvidenceLog, db: Database, settings: Settings) -> None:
    """The attacker rewrites a record and re-derives every hash and head, signed with their own key."""
    _edit_payload_keep_leaf_and_chain_consistent(db)
    with db.engine.connect() as c:
        leaves = [bytes.fromhex(r[0]) for r in c.execute(text("SELECT leaf_hash FROM evidence_records ORDER BY seq"))]
    tree = MerkleTree(leaves)
    mallory = Ed25519PrivateKey.generate()
    for size in range(TARGET + 1, N + 1):
        forged = sign_head(mallory, size, tree.root(size).hex(), 1_900_000_000_000)
        sql(db, "UPDATE evidence_tree_heads SET root_hash = :r, key_id = :k, signature = :sig, timestamp = :t "
                "WHERE tree_size = :n", r=forged.root_hash, k=forged.key_id, sig=forged.signature,
            t=forged.timestamp, n=size)
    report = verify_log(db, settings)
    assert not report.ok and report.first_bad_seq == TARGET
    assert "unknown key" in (report.problem or "")
    assert report.bad_tree_size == TARGET + 1


def test_truncation_is_caught_with_a_remembered_head(filled: EvidenceLog, db: Database, settings: Settings) -> None:
    remembered = filled.latest_head()
    assert remembered is not None
    sql(db, "DELETE FROM evidence_records WHERE seq >= 4")
    sql(db, "DELETE FROM evidence_tree_heads WHERE tree_size > 4")
    assert verify_log(db, settings).ok  # locally self-consistent: a shorter log
    report = verify_log(db, settings, expected_head=remembered)
    assert not report.ok and "truncated" in (report.problem or "")
    assert report.first_bad_seq == 4


def test_writer_refuses_to_extend_a_log_with_a_corrupt_compact_range(
    filled: EvidenceLog, db: Database, settings: Settings
) -> None:
    sql(db, "UPDATE evidence_tree_heads SET compact_range = :c WHERE tree_size = :n",
        c=json.dumps(["00" * 32, "11" * 32]), n=N)
    with pytest.raises(LedgerCorruptError):
        filled.append(entry(99))
    assert verify_log(db, settings).ok  # compact ranges are not evidence; nothing was written


def test_empty_log_verifies(log: EvidenceLog, db: Database, settings: Settings) -> None:
    report = verify_log(db, settings)
    assert report.ok and report.checked == 0 and report.tree_size == 0
