"""A tiny witness: remembers the last head it saw of each log and cosigns only growth.

Why: the log's own signature proves who wrote a head, not that the log never showed two
different histories or quietly dropped records. A witness run by another party (audit,
compliance, a partner bank) keeps the last head per log in its own storage, checks the RFC
6962 consistency proof from that head to the new one, and only then cosigns with its own
Ed25519 key. A log that rewrites history cannot get a cosignature for the rewritten head.

Protocol (close to C2SP tlog-witness, in JSON): POST /v1/cosign with
`{"head": SignedTreeHead, "old_size": n, "consistency_proof": [hex, ...]}`; 200 with a
`Cosignature`; 409 with `{"tree_size": m}` when the witness's last size is not `old_size`
(the log retries from m); 403 for an unknown log key or bad signature; 422 when the proof
does not show consistency (the witness refuses, and keeps its old head).
"""

from __future__ import annotations

import base64
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from creditflow.ledger.canonical import canonical_json
from creditflow.ledger.heads import SignedTreeHead, verify_head_signature
from creditflow.ledger.keys import key_id, load_or_create_private_key, load_public_key_pem, public_key_pem
from creditflow.ledger.rfc9162 import verify_consistency

COSIGNATURE_KIND = "creditflow/witness-cosignature/v1"


class CosignRequest(BaseModel):
    head: SignedTreeHead
    old_size: int = Field(0, ge=0, description="the size the log believes the witness last saw")
    consistency_proof: list[str] = Field(default_factory=list, description="hex hashes")


class Cosignature(BaseModel):
    """A witness's statement: 'I saw this head and it extends what I saw before'."""

    model_config = ConfigDict(frozen=True)

    log_key_id: str
    tree_size: int
    root_hash: str
    timestamp: int = Field(description="the head's timestamp (ms)")
    witness_key_id: str
    witness_public_key: str = Field(description="PEM")
    cosigned_at: int = Field(description="ms since epoch, witness clock")
    signature: str = Field(description="base64 Ed25519 over signed_bytes()")

    def body(self) -> dict[str, object]:
        return cosignature_body(
            self.log_key_id, self.tree_size, self.root_hash, self.timestamp, self.witness_key_id, self.cosigned_at
        )

    def signed_bytes(self) -> bytes:
        return canonical_json(self.body())


def cosignature_body(
    log_key_id: str, tree_size: int, root_hash: str, timestamp: int, witness_key_id: str, cosigned_at: int
) -> dict[str, object]:
    return {
        "kind": COSIGNATURE_KIND,
        "log_key_id": log_key_id,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "witness_key_id": witness_key_id,
        "cosigned_at": cosigned_at,
    }


def verify_cosignature(cosig: Cosignature, witness_key: Ed25519PublicKey | None = None) -> str | None:
    """None when the cosignature is valid (under `witness_key`, else its embedded key)."""
    try:
        key = witness_key or load_public_key_pem(cosig.witness_public_key)
    except ValueError:
        return "cosignature carries no valid Ed25519 public key"
    if key_id(key) != cosig.witness_key_id:
        return f"cosignature key id {cosig.witness_key_id} does not match the witness key"
    try:
        key.verify(base64.b64decode(cosig.signature, validate=True), cosig.signed_bytes())
    except (InvalidSignature, ValueError):
        return f"cosignature of witness {cosig.witness_key_id} on head {cosig.tree_size} is invalid"
    return None


class WitnessConflict(Exception):
    """The witness's last size differs from the request's `old_size`."""

    def __init__(self, size: int, message: str = "") -> None:
        super().__init__(message or f"witness is at tree size {size}")
        self.size = size


class WitnessRefused(Exception):
    """The witness will not cosign: unknown log, bad signature, or an inconsistent head."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Witness:
    """Cosigns heads of trusted logs; state in `state_dir/witness.db`, key in `state_dir`."""

    def __init__(
        self,
        state_dir: Path,
        trusted_logs: Iterable[Ed25519PublicKey] | Mapping[str, Ed25519PublicKey],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._key = load_or_create_private_key(self.state_dir, "witness-ed25519.pem")
        keys = trusted_logs.values() if isinstance(trusted_logs, Mapping) else trusted_logs
        self.trusted_logs: dict[str, Ed25519PublicKey] = {key_id(k): k for k in keys}
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.Lock()
        self._db_path = self.state_dir / "witness.db"
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS witness_heads (log_key_id TEXT PRIMARY KEY, "
                "tree_size INTEGER NOT NULL, root_hash TEXT NOT NULL, updated_at INTEGER NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @property
    def key_id(self) -> str:
        return key_id(self._key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    @property
    def public_key_pem(self) -> str:
        return public_key_pem(self._key.public_key()).decode()

    def last_head(self, log_key_id: str) -> tuple[int, str] | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT tree_size, root_hash FROM witness_heads WHERE log_key_id = ?", (log_key_id,)
            ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def cosign(self, request: CosignRequest) -> Cosignature:
        """Verify and cosign `request.head`, or raise WitnessConflict / WitnessRefused."""
        head = request.head
        problem = verify_head_signature(head, self.trusted_logs)
        if problem:
            raise WitnessRefused(problem, status=403)
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")  # one cosigner at a time, across processes too
                row = conn.execute(
                    "SELECT tree_size, root_hash FROM witness_heads WHERE log_key_id = ?", (head.key_id,)
                ).fetchone()
                old_size, old_root = (int(row[0]), str(row[1])) if row else (0, None)
                if request.old_size != old_size:
                    raise WitnessConflict(old_size)
                if head.tree_size < old_size:
                    raise WitnessRefused(f"head {head.tree_size} is older than the witnessed {old_size}")
                if old_root is not None:
                    try:
                        proof = [bytes.fromhex(p) for p in request.consistency_proof]
                    except ValueError:
                        raise WitnessRefused("consistency proof is not hex") from None
                    if not verify_consistency(
                        old_size, head.tree_size, bytes.fromhex(old_root), bytes.fromhex(head.root_hash), proof
                    ):
                        raise WitnessRefused(
                            f"head {head.tree_size} is not consistent with witnessed head {old_size}"
                        )
                now = int(self._clock().timestamp() * 1000)
                conn.execute(
                    "INSERT INTO witness_heads (log_key_id, tree_size, root_hash, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(log_key_id) DO UPDATE SET tree_size = excluded.tree_size, "
                    "root_hash = excluded.root_hash, updated_at = excluded.updated_at",
                    (head.key_id, head.tree_size, head.root_hash, now),
                )
                body = cosignature_body(head.key_id, head.tree_size, head.root_hash, head.timestamp, self.key_id, now)
                signature = base64.b64encode(self._key.sign(canonical_json(body))).decode()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()
        return Cosignature(
            log_key_id=head.key_id,
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            timestamp=head.timestamp,
            witness_key_id=self.key_id,
            witness_public_key=self.public_key_pem,
            cosigned_at=now,
            signature=signature,
        )


def create_witness_app(witness: Witness):  # type: ignore[no-untyped-def]  # -> fastapi.FastAPI
    """A minimal HTTP face for a witness: POST /v1/cosign, GET /v1/witness."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI(title="creditflow evidence-log witness")

    def problem(status: int, title: str, **extra: object) -> JSONResponse:
        return JSONResponse(
            {"type": "about:blank", "title": title, "status": status, **extra},
            status_code=status,
            media_type="application/problem+json",
        )

    @app.get("/v1/witness")
    def info() -> dict[str, object]:
        return {"key_id": witness.key_id, "public_key_pem": witness.public_key_pem,
                "logs": sorted(witness.trusted_logs)}

    @app.post("/v1/cosign", response_model=Cosignature)
    def cosign(request: CosignRequest):  # type: ignore[no-untyped-def]
        try:
            return witness.cosign(request)
        except WitnessConflict as exc:
            return problem(409, str(exc), tree_size=exc.size)
        except WitnessRefused as exc:
            return problem(exc.status, str(exc))

    return app


def http_witness(base_url: str, client=None) -> Callable[[CosignRequest], Cosignature]:  # type: ignore[no-untyped-def]
    """A `witness` callable for `EvidenceLog.cosign_latest` that talks to a remote witness."""
    import httpx

    http = client or httpx.Client(base_url=base_url, timeout=10)

    def call(request: CosignRequest) -> Cosignature:
        resp = http.post("/v1/cosign", json=request.model_dump(mode="json"))
        if resp.status_code == 409:
            raise WitnessConflict(int(resp.json()["tree_size"]))
        if resp.status_code in (403, 422):
            raise WitnessRefused(resp.json().get("title", resp.text), status=resp.status_code)
        resp.raise_for_status()
        return Cosignature.model_validate(resp.json())

    return call
