"""Payload encryption for Temporal: what the Temporal server stores is ciphertext, not PII.

Workflow inputs, results, signals, updates, queries, activity arguments and (with the
failure converter below) error messages and stack traces pass through this codec on the
client/worker side, so the Temporal server, its database and anyone with raw history access
see only `binary/encrypted` payloads. Staff read them decrypted through the API's codec
endpoint (`/codec/decode`), which checks their token.

Format (compatible with temporalio/samples-python `encryption/codec.py`, so the Go/TS codec
servers can read it): metadata `encoding=binary/encrypted`, `encryption-key-id=<kid>`;
data = 12-byte random nonce || AES-256-GCM(serialized original Payload).

Keys: JSON `{kid: base64(32 bytes)}` from `CREDITFLOW_CODEC_KEYS`, else the file
`var_dir/codec-keys.json` (0600, created with one random key on first use in dev/test).
The LAST entry encrypts; every entry decrypts, so rotation = append a key and keep the old
ones for as long as histories encrypted with them are retained.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from creditflow.config import Settings
from creditflow.security.keyfiles import (
    exclusive,
    new_key_id,
    private_dir,
    refuse_unless_allowed,
    write_secret,
)

ENCODING = b"binary/encrypted"
KEY_ID_META = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
KEYS_FILE = "codec-keys.json"


class CodecError(Exception):
    """A payload could not be decrypted; the message says why without revealing content."""


class UnknownKeyError(CodecError):
    """The payload names a key id this process does not have (rotated out or misconfigured)."""


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM codec with key ids: the active key encrypts, every known key decrypts.

    Payloads without our encoding (written before encryption was enabled, or by another
    codec) pass through `decode` untouched; `encode` never encrypts twice.
    """

    def __init__(self, keys: Mapping[str, bytes], active_kid: str | None = None) -> None:
        super().__init__()
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        for kid, key in keys.items():
            if not kid:
                raise ValueError("empty key id")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {kid!r} must be {KEY_BYTES} bytes, got {len(key)}")
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active_kid = active_kid if active_kid is not None else list(keys)[-1]
        if self.active_kid not in self._ciphers:
            raise ValueError(f"active key id {self.active_kid!r} is not among the keys")

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt_payload(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt_payload(p) for p in payloads]

    def encrypt_payload(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already ours: never double-encrypt
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_kid].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_META: self.active_kid.encode()},
            data=nonce + sealed,
        )

    def decrypt_payload(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not encrypted by us: pass through
        kid = payload.metadata.get(KEY_ID_META, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKeyError(
                f"payload encrypted with unknown key id {kid!r}; known key ids: "
                f"{', '.join(self._ciphers)}. Restore the retired key in CREDITFLOW_CODEC_KEYS "
                f"or {KEYS_FILE}."
            )
        data = payload.data
        if len(data) <= NONCE_BYTES:
            raise CodecError(f"encrypted payload (key id {kid!r}) is truncated")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag as exc:
            raise CodecError(
                f"encrypted payload failed authentication with key id {kid!r} "
                "(tampered, or a different key under the same id)"
            ) from exc
        return Payload.FromString(plain)


# ---- key material -----------------------------------------------------------------------


def parse_keys(text: str, source: str) -> dict[str, bytes]:
    """Parse `{kid: base64key}` JSON, keeping its order (the last key encrypts)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{source}: expected a non-empty JSON object {{kid: base64key}}")
    keys: dict[str, bytes] = {}
    for kid, b64 in raw.items():
        try:
            key = base64.b64decode(b64, validate=True)
        except (ValueError, TypeError):
            raise ValueError(f"{source}: key {kid!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"{source}: key {kid!r} must decode to {KEY_BYTES} bytes")
        keys[kid] = key
    return keys


def _dump_keys(keys: Mapping[str, bytes]) -> bytes:
    body = {kid: base64.b64encode(key).decode() for kid, key in keys.items()}
    return (json.dumps(body, indent=2) + "\n").encode()


def keys_path(settings: Settings) -> Path:
    return settings.var_dir / KEYS_FILE


def load_keys(settings: Settings) -> dict[str, bytes]:
    """Keys from CREDITFLOW_CODEC_KEYS, else the key file (created in dev/test if missing)."""
    if settings.codec_keys is not None:
        return parse_keys(settings.codec_keys.get_secret_value(), "CREDITFLOW_CODEC_KEYS")
    path = keys_path(settings)
    if not path.exists():
        refuse_unless_allowed(settings, f"payload encryption keys ({path})")
        private_dir(path.parent)
        with exclusive(path.with_name(f".{KEYS_FILE}.lock")):
            if not path.exists():  # another process may have created it meanwhile
                write_secret(path, _dump_keys({new_key_id(): secrets.token_bytes(KEY_BYTES)}))
    return parse_keys(path.read_text(), str(path))


def rotate_codec_key(settings: Settings) -> str:
    """Append a new key to the key file (it becomes the encrypting key); return its kid.

    Only for file-based keys: with CREDITFLOW_CODEC_KEYS the operator edits the variable.
    Running workers must restart to encrypt with the new key; they keep decrypting the old.
    """
    if settings.codec_keys is not None:
        raise RuntimeError("codec keys come from CREDITFLOW_CODEC_KEYS: rotate them there")
    path = keys_path(settings)
    load_keys(settings)  # creates the file on first use (dev/test)
    with exclusive(path.with_name(f".{KEYS_FILE}.lock")):
        keys = parse_keys(path.read_text(), str(path))
        kid = new_key_id()
        keys[kid] = secrets.token_bytes(KEY_BYTES)
        write_secret(path, _dump_keys(keys))
    return kid


def load_codec(settings: Settings) -> EncryptionCodec:
    """The codec every client, worker and the codec endpoint must share."""
    return EncryptionCodec(load_keys(settings))


def data_converter(settings: Settings) -> DataConverter:
    """The one DataConverter for clients and workers.

    Pydantic JSON for our models; with `settings.encrypt_payloads`, AES-GCM on every payload
    and failure messages/stack traces moved into an encoded (hence encrypted) attribute, since
    exception text often quotes the data that caused it.
    """
    if not settings.encrypt_payloads:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=load_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
