"""Evidence log: hash chain + RFC 6962 Merkle tree with signed heads, its verifier and a witness.

Library code: knows nothing of Temporal or HTTP (except the optional witness app).
Entry points: `EvidenceLog` (append, proofs), `verify_log` (full check), `render_proofs`.
"""

from creditflow.ledger.canonical import canonical_json, sha256_hex
from creditflow.ledger.heads import SignedTreeHead
from creditflow.ledger.log import EvidenceLog, LedgerCorruptError
from creditflow.ledger.records import EvidenceEntry, RecordWithProof, StoredRecord
from creditflow.ledger.verify import (
    VerifyReport,
    check_proof_bundle,
    render_proof,
    render_proofs,
    render_report,
    verify_log,
)

__all__ = [
    "EvidenceEntry",
    "EvidenceLog",
    "LedgerCorruptError",
    "RecordWithProof",
    "SignedTreeHead",
    "StoredRecord",
    "VerifyReport",
    "canonical_json",
    "check_proof_bundle",
    "render_proof",
    "render_proofs",
    "render_report",
    "sha256_hex",
    "verify_log",
]
