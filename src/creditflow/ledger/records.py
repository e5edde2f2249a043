"""The evidence log's boundary types: what callers append and what they get back.

`EvidenceEntry` is what a decision step knows (inputs as SHA-256 claim checks, versions,
outcome, reasons); `entry_payload` turns it plus its sequence number into the exact JSON that
is hashed into the log. Keeping that function here, small and versioned (`"v": 1`), is what
makes a record re-hashable by anyone years later.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import to_jsonable_python

from creditflow.ledger.canonical import loads
from creditflow.ledger.heads import SignedTreeHead

PAYLOAD_VERSION = 1
SHA256_HEX = r"^[0-9a-f]{64}$"
Sha256Hex = Annotated[str, StringConstraints(pattern=SHA256_HEX)]


class EvidenceEntry(BaseModel):
    """One decision step, as the caller states it. `recorded_at` comes from the caller
    (e.g. workflow time) so a retried step produces the very same record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str = Field(min_length=1, max_length=200)
    application_id: str = Field(min_length=1, max_length=80)
    stage: str = Field(min_length=1, max_length=80)
    actor: str = Field(min_length=1, max_length=200)
    recorded_at: AwareDatetime
    inputs: dict[str, Sha256Hex] = Field(
        default_factory=dict, description="input name -> lowercase hex SHA-256 of that input"
    )
    model_version: str | None = None
    policy_version: str | None = None
    outcome: str | None = None
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


def format_time(dt: datetime) -> str:
    """UTC, microseconds, 'Z': one spelling per instant, so hashes do not depend on offsets."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)  # databases hand naive UTC back (SQLite)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def entry_payload(seq: int, entry: EvidenceEntry) -> dict[str, Any]:
    """The JSON object whose canonical form is the leaf data of record `seq`."""
    return {
        "v": PAYLOAD_VERSION,
        "seq": seq,
        "idempotency_key": entry.idempotency_key,
        "application_id": entry.application_id,
        "stage": entry.stage,
        "actor": entry.actor,
        "recorded_at": format_time(entry.recorded_at),
        "inputs": dict(entry.inputs),
        "model_version": entry.model_version,
        "policy_version": entry.policy_version,
        "outcome": entry.outcome,
        "reasons": to_jsonable_python(entry.reasons),
        "details": to_jsonable_python(entry.details),
    }


class StoredRecord(BaseModel):
    """A record as stored: `payload` is the exact canonical JSON text that was hashed."""

    model_config = ConfigDict(frozen=True)

    seq: int
    idempotency_key: str
    application_id: str
    stage: str
    actor: str
    recorded_at: datetime
    outcome: str | None
    payload: str
    leaf_hash: str
    chain_hash: str

    def entry(self) -> EvidenceEntry:
        data = loads(self.payload)
        data.pop("v", None)
        data.pop("seq", None)
        data["recorded_at"] = parse_time(data["recorded_at"])
        return EvidenceEntry.model_validate(data)


class RecordWithProof(BaseModel):
    """A record plus the audit path that proves it is leaf `seq` of the signed head."""

    record: StoredRecord
    leaf_index: int
    tree_size: int
    inclusion_proof: list[str] = Field(description="hex hashes, RFC 6962 audit path")
    head: SignedTreeHead
