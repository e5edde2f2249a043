"""Ed25519 keys for signed tree heads: created once, kept private (0600), published as PEM.

Why a file under var/ and not the database: someone who can write the database must not be
able to forge heads, so the signing key lives elsewhere. The public key is written next to it
(`ledger-ed25519.pub.pem`) for offline checks; the key id is the first 16 hex characters of
SHA-256 over the raw 32-byte public key, so heads name the key that signed them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_KEY_FILE = "ledger-ed25519.pem"
PUBLIC_KEY_FILE = "ledger-ed25519.pub.pem"


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex characters of SHA-256(raw public key)."""
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key_pem(pem: bytes | str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


@contextlib.contextmanager
def _staged(path: Path, data: bytes, mode: int) -> Iterator[str]:
    """`data` in a new temporary file beside `path` (a name unique per call, `mode`, synced to disk),
    for the caller to link or rename into place; removed afterwards if still there."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _write_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Write `data` to `path` only if it does not exist; atomic against concurrent creators."""
    with _staged(path, data, mode) as tmp:
        try:
            os.link(tmp, path)  # fails if another process created it first
            return True
        except FileExistsError:
            return False


def _write_replacing(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`. The temporary name is unique per call, not per process:
    the API and an in-process worker publish the same key from two threads of one process."""
    with _staged(path, data, 0o644) as tmp:
        os.replace(tmp, path)


def load_or_create_private_key(key_dir: Path, file_name: str = PRIVATE_KEY_FILE) -> Ed25519PrivateKey:
    """The signing key in `key_dir`, generated (mode 0600) on first use; publishes the PEM."""
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / file_name
    if not path.exists():
        fresh = Ed25519PrivateKey.generate()
        pem = fresh.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_exclusive(path, pem, 0o600)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    pub_path = key_dir / file_name.replace(".pem", ".pub.pem")
    pub_pem = public_key_pem(key.public_key())
    if not pub_path.exists() or pub_path.read_bytes() != pub_pem:
        _write_replacing(pub_path, pub_pem)
    return key


def load_trusted_public_keys(key_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Keys a verifier accepts by default: this installation's key plus any PEM files in
    `key_dir/ledger-trusted-keys/` (retired keys after a rotation). Reads, never creates."""
    keys: dict[str, Ed25519PublicKey] = {}
    priv = key_dir / PRIVATE_KEY_FILE
    pub = key_dir / PUBLIC_KEY_FILE
    if priv.exists():
        key = serialization.load_pem_private_key(priv.read_bytes(), password=None)
        if isinstance(key, Ed25519PrivateKey):
            keys[key_id(key.public_key())] = key.public_key()
    elif pub.exists():
        k = load_public_key_pem(pub.read_bytes())
        keys[key_id(k)] = k
    extra = key_dir / "ledger-trusted-keys"
    if extra.is_dir():
        for f in sorted(extra.glob("*.pem")):
            k = load_public_key_pem(f.read_bytes())
            keys[key_id(k)] = k
    return keys
