"""`EvidenceLog`: append decision records, sign tree heads, hand out proofs.

Each append, in one transaction: the next sequence number, the canonical payload, its leaf
hash, the chain hash (SHA-256 of the previous chain hash and this leaf), the new Merkle root
(from the previous head's compact range, O(log n)) and a signed head for the new size. A head
per append costs one Ed25519 signature (~50 us) and means every record is covered by a signed
head the moment `append` returns.

Concurrency: the sequence number and the tree size are primary keys and the idempotency key
is unique, so two writers can never both commit record n; the loser gets an IntegrityError,
re-reads, and either returns the winner's record (same idempotency key) or retries at n+1.
On PostgreSQL a transaction-scoped advisory lock serialises writers first, so they rarely
collide; in one process a lock does the same for SQLite.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from creditflow.config import Settings
from creditflow.ledger.canonical import canonical_json, loads
from creditflow.ledger.heads import SignedTreeHead, sign_head
from creditflow.ledger.keys import key_id, load_or_create_private_key, public_key_pem
from creditflow.ledger.merkle import CompactRange, MerkleTree, leaf_hash
from creditflow.ledger.models import EvidenceRecord, HeadCosignature, TreeHead
from creditflow.ledger.records import EvidenceEntry, RecordWithProof, StoredRecord, entry_payload, format_time, parse_time
from creditflow.ledger.witness import Cosignature, CosignRequest, WitnessConflict, verify_cosignature
from creditflow.store.db import Database

GENESIS_CHAIN = bytes(32)
_PG_LOCK_KEY = 0x4C45444745520001  # "LEDGER" + 1: one advisory lock for all writers
_MAX_ATTEMPTS = 50
# Core tables for the append path (statements on the table skip the ORM's per-statement processing)
_RECORDS = EvidenceRecord.__table__
_HEADS = TreeHead.__table__
# ... and built once, with bound parameters: every decision step of every application runs them
_BY_KEY = select(_RECORDS).where(_RECORDS.c.idempotency_key == bindparam("key"))
_LAST = select(_RECORDS.c.seq, _RECORDS.c.chain_hash).order_by(_RECORDS.c.seq.desc()).limit(1)
_LATEST_HEAD = (select(_HEADS.c.tree_size, _HEADS.c.root_hash, _HEADS.c.timestamp, _HEADS.c.compact_range)
                .order_by(_HEADS.c.tree_size.desc()).limit(1))
_INSERT_RECORD = insert(_RECORDS)
_INSERT_HEAD = insert(_HEADS)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class LedgerCorruptError(RuntimeError):
    """Stored state contradicts itself; run `creditflow ledger verify`. Nothing was written."""


def chain_hash(prev_chain: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(prev_chain + leaf).digest()


def _to_stored(row: Any) -> StoredRecord:
    """From a stored record: an ORM `EvidenceRecord` or a row of its table."""
    data = loads(row.payload)
    return StoredRecord(
        seq=row.seq,
        idempotency_key=row.idempotency_key,
        application_id=row.application_id,
        stage=row.stage,
        actor=row.actor,
        recorded_at=parse_time(data["recorded_at"]),
        outcome=data.get("outcome"),
        payload=row.payload,
        leaf_hash=row.leaf_hash,
        chain_hash=row.chain_hash,
    )


def _to_head(row: TreeHead) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        timestamp=row.timestamp,
        key_id=row.key_id,
        signature=row.signature,
    )


def _process_lock(url: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(url, threading.Lock())


class EvidenceLog:
    """The tamper-evident record of every decision step of every application."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self._key = signing_key or load_or_create_private_key(settings.var_dir)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._write_lock = _process_lock(db.url)
        self._tree_lock = threading.Lock()
        self._tree = MerkleTree()

    # -- identity -------------------------------------------------------------------------
    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @property
    def public_key_pem(self) -> str:
        return public_key_pem(self.public_key).decode()

    # -- writing --------------------------------------------------------------------------
    def append(self, entry: EvidenceEntry, with_record: Callable[[Session], None] | None = None) -> StoredRecord:
        """Append `entry` once; the same idempotency key returns the record already stored.

        `with_record` writes what must commit together with the record (the application row the step
        changes, its notice) in the same transaction: both or neither, so a crash between them cannot
        leave a decision that is shown but not evidenced, or evidenced but not shown. It runs only when
        the record is new (a stored record means its transaction, writes included, committed) and again
        on every retry of a lost race, since the whole transaction rolled back."""
        for attempt in range(_MAX_ATTEMPTS):
            try:
                with self._write_lock, self.db.session() as s:
                    return self._append_in(s, entry, with_record)
            except IntegrityError:
                continue  # lost a race: for this key (the next attempt returns it) or for the seq (retry)
            except OperationalError as exc:  # SQLite: another process holds the write lock
                if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                    raise
                time.sleep(min(0.005 * (attempt + 1), 0.2))
        raise RuntimeError(f"could not append {entry.idempotency_key!r} after {_MAX_ATTEMPTS} attempts")

    def _append_in(self, s: Session, entry: EvidenceEntry,
                   with_record: Callable[[Session], None] | None = None) -> StoredRecord:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(_PG_LOCK, {"k": _PG_LOCK_KEY})
        # the same key again (an activity retry, or the loser of a race retrying): the first record
        row = s.execute(_BY_KEY, {"key": entry.idempotency_key}).first()
        if row is not None:
            return _to_stored(row)
        # only what chaining needs, not the last record's payload; statements, not ORM objects, since
        # this runs for every decision step of every application
        last = s.execute(_LAST).first()
        head = s.execute(_LATEST_HEAD).first()
        seq = 0 if last is None else last.seq + 1
        if (head.tree_size if head else 0) != seq:
            raise LedgerCorruptError(f"latest signed head covers {head.tree_size if head else 0} records, log has {seq}")
        compact = CompactRange()
        if head is not None:
            compact = CompactRange(head.tree_size, [bytes.fromhex(h) for h in json.loads(head.compact_range)])
            if compact.root().hex() != head.root_hash:
                raise LedgerCorruptError(f"stored compact range does not match head {head.tree_size}")
        payload = canonical_json(entry_payload(seq, entry))
        leaf = leaf_hash(payload)
        chain = chain_hash(bytes.fromhex(last.chain_hash) if last else GENESIS_CHAIN, leaf)
        compact.append(leaf)
        now_ms = int(self._clock().timestamp() * 1000)
        signed = sign_head(self._key, seq + 1, compact.root().hex(), max(now_ms, head.timestamp if head else 0))
        record = StoredRecord(
            seq=seq,
            idempotency_key=entry.idempotency_key,
            application_id=entry.application_id,
            stage=entry.stage,
            actor=entry.actor,
            recorded_at=parse_time(format_time(entry.recorded_at)),  # as a re-read of the payload gives it
            outcome=entry.outcome,
            payload=payload.decode(),
            leaf_hash=leaf.hex(),
            chain_hash=chain.hex(),
        )
        # the record first: a lost race fails here, before the head
        s.execute(_INSERT_RECORD, dict(
            seq=seq, idempotency_key=record.idempotency_key, application_id=record.application_id,
            stage=record.stage, actor=record.actor, recorded_at=entry.recorded_at, payload=record.payload,
            leaf_hash=record.leaf_hash, chain_hash=record.chain_hash))
        s.execute(_INSERT_HEAD, dict(
            tree_size=signed.tree_size, root_hash=signed.root_hash, timestamp=signed.timestamp,
            key_id=signed.key_id, signature=signed.signature,
            compact_range=json.dumps([h.hex() for h in compact.hashes])))
        if with_record is not None:
            with_record(s)
        return record

    # -- reading --------------------------------------------------------------------------
    def get(self, idempotency_key: str) -> StoredRecord | None:
        with self.db.session() as s:
            row = s.scalars(
                select(EvidenceRecord).where(EvidenceRecord.idempotency_key == idempotency_key)
            ).first()
            return _to_stored(row) if row else None

    def latest_head(self) -> SignedTreeHead | None:
        with self.db.session() as s:
            row = s.scalars(select(TreeHead).order_by(TreeHead.tree_size.desc()).limit(1)).first()
            return _to_head(row) if row else None

    def head(self, tree_size: int) -> SignedTreeHead | None:
        with self.db.session() as s:
            row = s.get(TreeHead, tree_size)
            return _to_head(row) if row else None

    def _tree_of(self, size: int) -> MerkleTree:
        """The tree over stored leaf hashes, grown from the database as the log grows."""
        with self._tree_lock:
            if self._tree.size < size:
                with self.db.session() as s:
                    rows = s.execute(
                        select(EvidenceRecord.seq, EvidenceRecord.leaf_hash)
                        .where(EvidenceRecord.seq >= self._tree.size, EvidenceRecord.seq < size)
                        .order_by(EvidenceRecord.seq)
                    ).all()
                for seq, leaf in rows:
                    if seq != self._tree.size:
                        raise LedgerCorruptError(f"record {self._tree.size} is missing")
                    self._tree.append_hash(bytes.fromhex(leaf))
                if self._tree.size < size:
                    raise LedgerCorruptError(f"head covers {size} records, only {self._tree.size} stored")
            return self._tree

    def _checked_tree(self, head: SignedTreeHead) -> MerkleTree:
        tree = self._tree_of(head.tree_size)
        if tree.root(head.tree_size).hex() != head.root_hash:
            raise LedgerCorruptError(f"stored leaves do not produce the root of head {head.tree_size}")
        return tree

    def records_for(self, application_id: str) -> list[RecordWithProof]:
        """Every record of an application, each with its audit path to the latest signed head."""
        head = self.latest_head()
        if head is None:
            return []
        with self.db.session() as s:
            rows = s.scalars(
                select(EvidenceRecord)
                .where(EvidenceRecord.application_id == application_id, EvidenceRecord.seq < head.tree_size)
                .order_by(EvidenceRecord.seq)
            ).all()
        if not rows:
            return []
        tree = self._checked_tree(head)
        return [
            RecordWithProof(
                record=_to_stored(row),
                leaf_index=row.seq,
                tree_size=head.tree_size,
                inclusion_proof=[h.hex() for h in tree.inclusion_proof(row.seq, head.tree_size)],
                head=head,
            )
            for row in rows
        ]

    def evidence_bundle(self, application_id: str) -> dict[str, object]:
        """JSON-able proof bundle for GET /v1/applications/{id}/evidence and `ledger prove`."""
        from creditflow.ledger.verify import render_proofs

        return render_proofs(application_id, self.records_for(application_id), self.public_key)

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> list[str]:
        head = self.latest_head() if tree_size is None else self.head(tree_size)
        if head is None:
            raise ValueError("no signed head of that size")
        return [h.hex() for h in self._checked_tree(head).inclusion_proof(seq, head.tree_size)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[str]:
        """RFC 6962 proof that the first `old_size` records are a prefix of `new_size` records."""
        head = self.latest_head() if new_size is None else self.head(new_size)
        if head is None:
            raise ValueError("no signed head of that size")
        return [h.hex() for h in self._checked_tree(head).consistency_proof(old_size, head.tree_size)]

    # -- witnesses ------------------------------------------------------------------------
    def cosign_latest(
        self, witness: Callable[[CosignRequest], Cosignature], witness_size: int = 0
    ) -> Cosignature:
        """Ask a witness to cosign the latest head, proving consistency with the head it last
        saw (`witness_size`; corrected once if the witness reports another size), and store
        its cosignature."""
        head = self.latest_head()
        if head is None:
            raise ValueError("the log is empty: nothing to cosign")
        for _ in range(3):
            if witness_size > head.tree_size:
                raise WitnessConflict(witness_size, "the witness has seen a larger tree than this log")
            proof = self.consistency_proof(witness_size, head.tree_size) if witness_size else []
            try:
                cosig = witness(CosignRequest(head=head, old_size=witness_size, consistency_proof=proof))
            except WitnessConflict as conflict:
                witness_size = conflict.size
                continue
            problem = verify_cosignature(cosig)
            if problem or cosig.tree_size != head.tree_size or cosig.root_hash != head.root_hash:
                raise ValueError(problem or "witness cosigned another head")
            try:
                with self.db.session() as s:
                    s.add(
                        HeadCosignature(
                            tree_size=cosig.tree_size,
                            root_hash=cosig.root_hash,
                            witness_key_id=cosig.witness_key_id,
                            witness_public_key=cosig.witness_public_key,
                            cosigned_at=cosig.cosigned_at,
                            signature=cosig.signature,
                        )
                    )
            except IntegrityError:
                pass  # this witness already cosigned this head
            return cosig
        raise WitnessConflict(witness_size, "the witness keeps reporting another size")

    def cosignatures(self, tree_size: int | None = None) -> list[Cosignature]:
        head = self.latest_head() if tree_size is None else self.head(tree_size)
        if head is None:
            return []
        with self.db.session() as s:
            rows = s.scalars(select(HeadCosignature).where(HeadCosignature.tree_size == head.tree_size)).all()
        return [
            Cosignature(
                log_key_id=head.key_id,
                tree_size=r.tree_size,
                root_hash=r.root_hash,
                timestamp=head.timestamp,
                witness_key_id=r.witness_key_id,
                witness_public_key=r.witness_public_key,
                cosigned_at=r.cosigned_at,
                signature=r.signature,
            )
            for r in rows
        ]
