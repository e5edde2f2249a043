"""`verify_log`: recompute the whole evidence log from its payloads and name the first bad record.

Trusts nothing stored except the canonical payloads it re-hashes: every leaf hash, every chain
hash, the Merkle root of every signed head (from recomputed leaves), every head signature
(against keys from the key directory, never from the database), consistency between
successive heads (RFC 6962 proof, checked with the independent RFC 9162 verifier), and every
witness cosignature. Records must be numbered 0..n-1 without gaps and covered by a head.

What it cannot see alone: a truncation that removes the newest records *and* their heads
and cosignatures. Keep the last verified head (`report.tree_size`/`root_hash`) or ask a
witness for its last cosigned head and pass it as `expected_head` to catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy import select

from creditflow.config import Settings
from creditflow.ledger.canonical import canonical_json, loads
from creditflow.ledger.heads import SignedTreeHead, head_body, verify_head_signature
from creditflow.ledger.keys import load_trusted_public_keys, public_key_pem
from creditflow.ledger.merkle import MerkleTree, leaf_hash
from creditflow.ledger.models import EvidenceRecord, HeadCosignature, TreeHead
from creditflow.ledger.records import RecordWithProof, format_time
from creditflow.ledger.rfc9162 import verify_consistency, verify_inclusion
from creditflow.ledger.witness import Cosignature, verify_cosignature
from creditflow.store.db import Database

GENESIS_CHAIN = bytes(32)
_COLUMNS = ("idempotency_key", "application_id", "stage", "actor")


class VerifyReport(BaseModel):
    ok: bool
    checked: int = 0
    first_bad_seq: int | None = None
    problem: str | None = None
    heads_checked: int = 0
    cosignatures_checked: int = 0
    tree_size: int = 0
    root_hash: str | None = None
    bad_tree_size: int | None = None


def _record_problem(row: EvidenceRecord, seq: int, prev_chain: bytes) -> tuple[str | None, bytes, bytes]:
    """(problem, recomputed leaf, recomputed chain) for one record."""
    payload = row.payload.encode()
    leaf = leaf_hash(payload)
    chain = hashlib.sha256(prev_chain + leaf).digest()
    try:
        data = loads(row.payload)
        canonical = canonical_json(data)
    except (ValueError, TypeError) as exc:
        return f"record {seq}: payload is not valid JSON ({exc})", leaf, chain
    if canonical != payload:
        return f"record {seq}: payload is not in canonical form", leaf, chain
    if not isinstance(data, dict) or data.get("seq") != seq:
        return f"record {seq}: payload belongs to seq {data.get('seq') if isinstance(data, dict) else '?'} (moved or reordered)", leaf, chain
    for col in _COLUMNS:
        if getattr(row, col) != data.get(col):
            return f"record {seq}: column {col} differs from the hashed payload", leaf, chain
    recorded = row.recorded_at
    if recorded is None or format_time(recorded) != data.get("recorded_at"):
        return f"record {seq}: column recorded_at differs from the hashed payload", leaf, chain
    if row.leaf_hash != leaf.hex():
        return f"record {seq}: leaf hash does not match its payload", leaf, chain
    if row.chain_hash != chain.hex():
        return f"record {seq}: chain hash does not follow from record {seq - 1}", leaf, chain
    return None, leaf, chain


def verify_log(
    db: Database,
    settings: Settings,
    *,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    trusted_witnesses: Mapping[str, Ed25519PublicKey] | None = None,
    expected_head: SignedTreeHead | None = None,
) -> VerifyReport:
    """Check everything; `ok` only if every record, head and cosignature verifies.

    `trusted_keys` defaults to this installation's key plus var/ledger-trusted-keys/*.pem.
    With `trusted_witnesses`, every cosignature must come from one of them."""
    keys = dict(trusted_keys) if trusted_keys is not None else load_trusted_public_keys(settings.var_dir)
    tree = MerkleTree()
    bad: tuple[int, str, int | None] | None = None  # (seq, problem, tree_size)
    prev_chain = GENESIS_CHAIN
    with db.session() as s:
        for row in s.scalars(select(EvidenceRecord).order_by(EvidenceRecord.seq)).yield_per(2000):
            seq = tree.size
            if row.seq != seq:
                bad = (seq, f"record {seq} is missing (next stored record is {row.seq})", None)
                break
            problem, leaf, prev_chain = _record_problem(row, seq, prev_chain)
            if problem:
                bad = (seq, problem, None)
                break
            tree.append_hash(leaf)
        heads = [
            SignedTreeHead(tree_size=h.tree_size, root_hash=h.root_hash, timestamp=h.timestamp,
                           key_id=h.key_id, signature=h.signature)
            for h in s.scalars(select(TreeHead).order_by(TreeHead.tree_size))
        ]
        cosigs = list(s.scalars(select(HeadCosignature).order_by(HeadCosignature.tree_size, HeadCosignature.id)))
    records_ok = tree.size  # records 0..records_ok-1 verified
    limit = bad[0] if bad else records_ok

    def flag(seq: int, problem: str, size: int | None) -> None:
        nonlocal bad
        if bad is None or seq < bad[0]:
            bad = (seq, problem, size)

    heads_checked = 0
    prev: SignedTreeHead | None = None
    by_size: dict[int, SignedTreeHead] = {}
    for head in heads:
        if head.tree_size == 0:
            flag(0, "a signed head of size 0 is not expected", 0)
            break
        if head.tree_size > limit:
            if bad is None:
                flag(records_ok, f"head {head.tree_size} covers record {records_ok}, which is missing", head.tree_size)
            break
        seq = head.tree_size - 1
        problem = verify_head_signature(head, keys)
        if problem is None and tree.root(head.tree_size).hex() != head.root_hash:
            problem = f"head {head.tree_size}: root does not match the records"
        if problem is None and prev is not None:
            if head.timestamp < prev.timestamp:
                problem = f"head {head.tree_size}: timestamp goes back before head {prev.tree_size}"
            else:
                proof = tree.consistency_proof(prev.tree_size, head.tree_size)
                if not verify_consistency(prev.tree_size, head.tree_size, bytes.fromhex(prev.root_hash),
                                          bytes.fromhex(head.root_hash), proof):
                    problem = f"head {head.tree_size} is not consistent with head {prev.tree_size}"
        if problem:
            flag(seq, problem, head.tree_size)
            break
        heads_checked += 1
        by_size[head.tree_size] = head
        prev = head

    latest = prev
    if bad is None and records_ok and (latest is None or latest.tree_size < records_ok):
        covered = latest.tree_size if latest else 0
        flag(covered, f"record {covered} is not covered by any signed head", None)

    if bad is None and expected_head is not None:
        have = by_size.get(expected_head.tree_size)
        if have is None or have.root_hash != expected_head.root_hash:
            missing = expected_head.tree_size > records_ok
            flag(records_ok if missing else max(expected_head.tree_size - 1, 0),
                 f"the log no longer contains the expected head {expected_head.tree_size} (truncated or forked)",
                 expected_head.tree_size)

    cosigs_checked = 0
    for c in cosigs:
        head = by_size.get(c.tree_size)
        if head is None:
            if c.tree_size <= limit:
                flag(max(c.tree_size - 1, 0), f"cosignature for unknown head {c.tree_size}", c.tree_size)
            continue
        cos = Cosignature(log_key_id=head.key_id, tree_size=c.tree_size, root_hash=c.root_hash,
                          timestamp=head.timestamp, witness_key_id=c.witness_key_id,
                          witness_public_key=c.witness_public_key, cosigned_at=c.cosigned_at, signature=c.signature)
        problem = None
        if c.root_hash != head.root_hash:
            problem = f"cosignature of head {c.tree_size} names another root"
        elif trusted_witnesses is not None and c.witness_key_id not in trusted_witnesses:
            problem = f"cosignature of head {c.tree_size} is from untrusted witness {c.witness_key_id}"
        else:
            problem = verify_cosignature(cos, (trusted_witnesses or {}).get(c.witness_key_id))
        if problem:
            flag(c.tree_size - 1, problem, c.tree_size)
        else:
            cosigs_checked += 1

    return VerifyReport(
        ok=bad is None,
        checked=records_ok,
        first_bad_seq=bad[0] if bad else None,
        problem=bad[1] if bad else None,
        heads_checked=heads_checked,
        cosignatures_checked=cosigs_checked,
        tree_size=latest.tree_size if latest else 0,
        root_hash=latest.root_hash if latest else None,
        bad_tree_size=bad[2] if bad else None,
    )


# -- proof bundles for `creditflow ledger prove` and GET /v1/applications/{id}/evidence ---------

def render_head(head: SignedTreeHead) -> dict[str, Any]:
    return head.model_dump()


def render_proof(item: RecordWithProof) -> dict[str, Any]:
    """One record with everything needed to check it offline (see docs/EVIDENCE.md)."""
    r = item.record
    return {
        "seq": r.seq,
        "application_id": r.application_id,
        "stage": r.stage,
        "actor": r.actor,
        "recorded_at": format_time(r.recorded_at),
        "outcome": r.outcome,
        "payload": r.payload,
        "record": json.loads(r.payload),
        "leaf_hash": r.leaf_hash,
        "chain_hash": r.chain_hash,
        "leaf_index": item.leaf_index,
        "tree_size": item.tree_size,
        "inclusion_proof": list(item.inclusion_proof),
    }


def render_proofs(
    application_id: str, items: list[RecordWithProof], public_key: Ed25519PublicKey | None = None
) -> dict[str, Any]:
    """The evidence of one application: records, proofs, the signed head they lead to."""
    head = items[0].head if items else None
    return {
        "application_id": application_id,
        "hash_algorithm": "SHA-256, RFC 6962 leaves 0x00 and nodes 0x01; payload is RFC 8785 JSON",
        "signed_tree_head": render_head(head) if head else None,
        "signed_head_bytes": canonical_json(head.body()).decode() if head else None,
        "log_public_key_pem": public_key_pem(public_key).decode() if public_key else None,
        "records": [render_proof(i) for i in items],
    }


def render_report(report: VerifyReport) -> dict[str, Any]:
    return report.model_dump()


def check_proof_bundle(bundle: Mapping[str, Any], trusted: Mapping[str, Ed25519PublicKey]) -> list[str]:
    """Re-check a rendered bundle with nothing but its own content and trusted keys.
    Returns the problems found (empty: all good). What an auditor runs offline."""
    problems: list[str] = []
    h = bundle.get("signed_tree_head")
    if not h:
        return ["no signed tree head"] if bundle.get("records") else []
    head = SignedTreeHead.model_validate(h)
    if canonical_json(head_body(head.tree_size, head.root_hash, head.timestamp, head.key_id)) != head.signed_bytes():
        problems.append("head body mismatch")
    problem = verify_head_signature(head, trusted)
    if problem:
        problems.append(problem)
    root = bytes.fromhex(head.root_hash)
    for rec in bundle.get("records", []):
        leaf = leaf_hash(rec["payload"].encode())
        if leaf.hex() != rec["leaf_hash"]:
            problems.append(f"record {rec['seq']}: leaf hash does not match payload")
            continue
        proof = [bytes.fromhex(p) for p in rec["inclusion_proof"]]
        if rec["tree_size"] != head.tree_size or not verify_inclusion(leaf, rec["leaf_index"], head.tree_size, proof, root):
            problems.append(f"record {rec['seq']}: inclusion proof does not verify")
    return problems
