"""Signed tree heads: what is signed, how, and how to check it.

The signed bytes are the RFC 8785 canonical JSON of exactly
`{"key_id", "root_hash" (hex), "timestamp" (ms since epoch), "tree_size"}`; the Ed25519
signature over them is stored base64. Anyone with the public key can check a head with
hashlib + cryptography alone (docs/EVIDENCE.md shows how).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from creditflow.ledger.canonical import canonical_json
from creditflow.ledger.keys import key_id as compute_key_id


class SignedTreeHead(BaseModel):
    """A log's commitment to its first `tree_size` records."""

    model_config = ConfigDict(frozen=True)

    tree_size: int = Field(ge=0)
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    timestamp: int = Field(ge=0, description="milliseconds since the Unix epoch")
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(description="base64 Ed25519 signature over signed_bytes()")

    def body(self) -> dict[str, object]:
        return head_body(self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def signed_bytes(self) -> bytes:
        return canonical_json(self.body())


def head_body(tree_size: int, root_hash: str, timestamp: int, key_id: str) -> dict[str, object]:
    return {"tree_size": tree_size, "root_hash": root_hash, "timestamp": timestamp, "key_id": key_id}


def sign_head(private_key: Ed25519PrivateKey, tree_size: int, root_hash: str, timestamp: int) -> SignedTreeHead:
    kid = compute_key_id(private_key.public_key())
    body = canonical_json(head_body(tree_size, root_hash, timestamp, kid))
    signature = base64.b64encode(private_key.sign(body)).decode()
    return SignedTreeHead(tree_size=tree_size, root_hash=root_hash, timestamp=timestamp, key_id=kid, signature=signature)


def verify_head_signature(head: SignedTreeHead, trusted: Mapping[str, Ed25519PublicKey]) -> str | None:
    """None when the head is signed by a trusted key, else why not."""
    key = trusted.get(head.key_id)
    if key is None:
        return f"head {head.tree_size} is signed by unknown key {head.key_id}"
    try:
        key.verify(base64.b64decode(head.signature, validate=True), head.signed_bytes())
    except (InvalidSignature, ValueError):
        return f"head {head.tree_size} has an invalid signature"
    return None
