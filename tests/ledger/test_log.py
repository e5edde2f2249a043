"""EvidenceLog on SQLite and PostgreSQL: appends, idempotency, proofs, the append-only guard."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from creditflow.config import Settings
from creditflow.ledger.heads import verify_head_signature
from creditflow.ledger.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, load_public_key_pem
from creditflow.ledger.log import EvidenceLog
from creditflow.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from creditflow.ledger.models import EvidenceRecord, TreeHead
from creditflow.ledger.verify import check_proof_bundle, render_proofs, verify_log
from creditflow.store.db import Database

from .conftest import entry


def test_append_builds_chain_tree_and_signed_heads(log: EvidenceLog, db: Database, settings: Settings) -> None:
    stored = [log.append(entry(n)) for n in range(5)]
    assert [r.seq for r in stored] == [0, 1, 2, 3, 4]
    head = log.latest_head()
    assert head is not None and head.tree_size == 5
    assert verify_head_signature(head, {log.key_id: log.public_key}) is None
    assert stored[0].leaf_hash == leaf_hash(stored[0].payload.encode()).hex()
    assert stored[2].entry() == entry(2)
    assert [log.get(r.idempotency_key) for r in stored] == stored  # what append returns is what is stored
    report = verify_log(db, settings)
    assert report.ok, report
    assert (report.checked, report.heads_checked, report.tree_size) == (5, 5, 5)
    assert report.root_hash == head.root_hash


def test_same_idempotency_key_returns_existing_record(log: EvidenceLog, db: Database) -> None:
    first = log.append(entry(0))
    again = log.append(entry(0))
    assert again == first
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 1
        assert s.scalar(select(func.count()).select_from(TreeHead)) == 1


def test_writes_with_the_record_commit_or_roll_back_with_it(log: EvidenceLog, db: Database,
                                                             settings: Settings) -> None:
    """`with_record` runs in the record's transaction: a failure in it leaves neither the record nor its
    head (nor its writes); a retry of a committed key writes nothing again."""
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE step_rows (k VARCHAR(40) PRIMARY KEY)"))

    def write(key: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def go(s) -> None:  # type: ignore[no-untyped-def]
            s.execute(text("INSERT INTO step_rows (k) VALUES (:k)"), {"k": key})
            if fail:
                raise RuntimeError("the row's write failed")
        return go

    def rows() -> list[str]:
        with db.session() as s:
            return list(s.scalars(text("SELECT k FROM step_rows ORDER BY k")))

    log.append(entry(0), write("a"))
    with pytest.raises(RuntimeError, match="row's write failed"):
        log.append(entry(1), write("b", fail=True))
    assert rows() == ["a"] and log.get(entry(1).idempotency_key) is None
    assert log.latest_head().tree_size == 1  # type: ignore[union-attr]
    again = log.append(entry(0), write("a-again"))  # a retry after the commit: the record, nothing written
    assert again.seq == 0 and rows() == ["a"]
    assert log.append(entry(1), write("b")).seq == 1 and rows() == ["a", "b"]
    assert verify_log(db, settings).ok


def test_concurrent_appends_are_idempotent_and_gapless(log: EvidenceLog, db: Database, settings: Settings) -> None:
    results: dict[str, set[int]] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []
    other = EvidenceLog(db, settings)  # a second writer object, as API and worker would have

    def worker(i: int) -> None:
        try:
            for n in range(6):
                for key_n in (n, 100 + i * 10 + n):  # shared keys and this thread's own keys
                    rec = (log if i % 2 else other).append(entry(key_n))
                    with lock:
                        results.setdefault(rec.idempotency_key, set()).add(rec.seq)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(len(seqs) == 1 for seqs in results.values()), results
    with db.session() as s:
        seqs = list(s.scalars(select(EvidenceRecord.seq).order_by(EvidenceRecord.seq)))
    assert seqs == list(range(6 + 6 * 6))
    assert verify_log(db, settings).ok


def test_records_for_proofs_verify_independently(log: EvidenceLog, db: Database, settings: Settings) -> None:
    for n in range(9):
        log.append(entry(n, app="app-A" if n % 3 == 0 else "app-B"))
    items = log.records_for("app-A")
    assert [i.record.seq for i in items] == [0, 3, 6]
    head = log.latest_head()
    assert head is not None
    for item in items:
        assert item.head == head and item.tree_size == 9
        assert verify_inclusion(
            leaf_hash(item.record.payload.encode()),
            item.leaf_index,
            item.tree_size,
            [bytes.fromhex(p) for p in item.inclusion_proof],
            bytes.fromhex(head.root_hash),
        )
    bundle = render_proofs("app-A", items, log.public_key)
    trusted = {log.key_id: load_public_key_pem(bundle["log_public_key_pem"])}
    assert check_proof_bundle(bundle, trusted) == []
    bundle["records"][1]["payload"] = bundle["records"][1]["payload"].replace('"outcome":"approve"', '"outcome":"decline"')
    assert bundle["records"][1]["payload"] != items[1].record.payload
    assert check_proof_bundle(bundle, trusted) == ["record 3: leaf hash does not match payload"]
    assert log.records_for("nobody") == []


def test_consistency_proofs_between_heads(log: EvidenceLog) -> None:
    roots = {}
    for n in range(12):
        log.append(entry(n))
        head = log.latest_head()
        assert head is not None
        roots[head.tree_size] = bytes.fromhex(head.root_hash)
    for old in range(1, 13):
        proof = [bytes.fromhex(p) for p in log.consistency_proof(old, 12)]
        assert verify_consistency(old, 12, roots[old], roots[12], proof)
    proof = [bytes.fromhex(p) for p in log.consistency_proof(3, 7)]
    assert verify_consistency(3, 7, roots[3], roots[7], proof)
    assert not verify_consistency(3, 7, roots[4], roots[7], proof)


def test_key_file_private_and_public_key_published(log: EvidenceLog, settings: Settings) -> None:
    key_path = settings.var_dir / PRIVATE_KEY_FILE
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    pub = load_public_key_pem((settings.var_dir / PUBLIC_KEY_FILE).read_bytes())
    assert pub == log.public_key
    assert len(log.key_id) == 16
    assert EvidenceLog(log.db, settings).key_id == log.key_id  # reused, not regenerated


def test_threads_of_one_process_publish_the_key_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The API and an in-process worker load the key at the same moment (seen as a flaky
    FileNotFoundError when both used one temporary file name per process)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from creditflow.ledger.keys import load_or_create_private_key, public_key_pem

    key = load_or_create_private_key(tmp_path)
    for _ in range(20):
        (tmp_path / PUBLIC_KEY_FILE).unlink()
        barrier = threading.Barrier(8)  # all eight reach the write together
        with ThreadPoolExecutor(8) as pool:
            loads = [pool.submit(lambda: (barrier.wait(), load_or_create_private_key(tmp_path))) for _ in range(8)]
            for f in loads:
                f.result()  # re-raises a thread's error here
    assert (tmp_path / PUBLIC_KEY_FILE).read_bytes() == public_key_pem(key.public_key())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([PRIVATE_KEY_FILE, PUBLIC_KEY_FILE])


@pytest.mark.parametrize("table", ["evidence_records", "evidence_tree_heads"])
def test_database_rejects_update_and_delete(log: EvidenceLog, db: Database, table: str) -> None:
    log.append(entry(0))
    column = "stage" if table == "evidence_records" else "root_hash"
    for stmt in (f"UPDATE {table} SET {column} = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as c:
                c.execute(text(stmt))
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as c:
                c.execute(text(f"TRUNCATE {table} CASCADE"))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 1
        assert s.scalar(select(EvidenceRecord.stage)) == "analyzing"


def test_guard_install_is_idempotent(log: EvidenceLog, db: Database) -> None:
    from creditflow.ledger.models import install_append_only_guard

    install_append_only_guard(db.engine)
    install_append_only_guard(db.engine)
    log.append(entry(0))
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as c:
            c.execute(text("DELETE FROM evidence_cosignatures"))
            c.execute(text("DELETE FROM evidence_records"))
