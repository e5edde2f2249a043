"""EncryptionCodec and key loading: round trip, rotation, missing keys, foreign payloads."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from creditflow.config import Settings
from creditflow.security.codec import (
    ENCODING,
    CodecError,
    EncryptionCodec,
    UnknownKeyError,
    data_converter,
    load_codec,
    parse_keys,
    rotate_codec_key,
)
from creditflow.security.keyfiles import KeyGenerationRefused

SECRET = "Jane Q. Applicant, SSN 123-45-6789"


def _payload(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


async def test_round_trip_hides_plaintext(settings: Settings) -> None:
    codec = load_codec(settings)
    original = _payload()
    [enc] = await codec.encode([original])
    assert enc.metadata["encoding"] == ENCODING
    assert enc.metadata["encryption-key-id"].decode() == codec.active_kid
    assert b"123-45-6789" not in enc.SerializeToString()
    assert b"json/plain" not in enc.SerializeToString()  # inner metadata is encrypted too
    [dec] = await codec.decode([enc])
    assert dec == original


async def test_nonce_is_fresh_per_payload(settings: Settings) -> None:
    codec = load_codec(settings)
    a, b = await codec.encode([_payload(), _payload()])
    assert a.data != b.data


async def test_key_file_created_private_and_reused(settings: Settings) -> None:
    codec = load_codec(settings)
    path = settings.var_dir / "codec-keys.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keys = json.loads(path.read_text())
    assert list(keys) == [codec.active_kid]
    assert len(base64.b64decode(keys[codec.active_kid])) == 32
    [enc] = await codec.encode([_payload()])
    # another process (same var dir) decrypts
    assert (await load_codec(settings).decode([enc]))[0] == _payload()


async def test_rotation_new_key_encrypts_old_still_decrypts(settings: Settings) -> None:
    old = load_codec(settings)
    [old_enc] = await old.encode([_payload("old")])
    new_kid = rotate_codec_key(settings)
    new = load_codec(settings)
    assert new.active_kid == new_kid
    assert new.key_ids == [old.active_kid, new_kid]
    [new_enc] = await new.encode([_payload("new")])
    assert new_enc.metadata["encryption-key-id"].decode() == new_kid
    assert (await new.decode([old_enc]))[0] == _payload("old")
    assert (await new.decode([new_enc]))[0] == _payload("new")
    # a process still on the old key set cannot read the new payload, and says why
    with pytest.raises(UnknownKeyError, match=new_kid):
        await old.decode([new_enc])


async def test_missing_key_gives_clear_error(settings: Settings) -> None:
    [enc] = await load_codec(settings).encode([_payload()])
    other = EncryptionCodec({"someone-elses-key": os.urandom(32)})
    with pytest.raises(UnknownKeyError, match="unknown key id .*known key ids: someone-elses-key"):
        await other.decode([enc])


async def test_wrong_key_under_same_id_or_tampering_detected(settings: Settings) -> None:
    codec = load_codec(settings)
    [enc] = await codec.encode([_payload()])
    impostor = EncryptionCodec({codec.active_kid: os.urandom(32)})
    with pytest.raises(CodecError, match="failed authentication"):
        await impostor.decode([enc])
    tampered = Payload()
    tampered.CopyFrom(enc)
    tampered.data = enc.data[:-1] + bytes([enc.data[-1] ^ 1])
    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([tampered])
    truncated = Payload(metadata=dict(enc.metadata), data=enc.data[:5])
    with pytest.raises(CodecError, match="truncated"):
        await codec.decode([truncated])


async def test_foreign_payloads_pass_through_decode(settings: Settings) -> None:
    codec = load_codec(settings)
    foreign = [_payload("plain"), Payload(metadata={"encoding": b"binary/null"}), Payload()]
    assert await codec.decode(foreign) == foreign


async def test_encode_does_not_double_encrypt(settings: Settings) -> None:
    codec = load_codec(settings)
    [once] = await codec.encode([_payload()])
    [twice] = await codec.encode([once])
    assert twice == once


async def test_keys_from_env_last_entry_encrypts(settings: Settings) -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    env = json.dumps({"k1": base64.b64encode(k1).decode(), "k2": base64.b64encode(k2).decode()})
    s = settings.model_copy(update={"codec_keys": SecretStr(env)})
    codec = load_codec(s)
    assert codec.key_ids == ["k1", "k2"] and codec.active_kid == "k2"
    assert not (settings.var_dir / "codec-keys.json").exists()  # env wins, no file written
    [enc] = await codec.encode([_payload()])
    assert (await EncryptionCodec({"k2": k2}).decode([enc]))[0] == _payload()


@pytest.mark.parametrize(
    "text, msg",
    [
        ("not json", "not valid JSON"),
        ("{}", "non-empty"),
        ('{"k": "%%%"}', "not valid base64"),
        ('{"k": "%s"}' % base64.b64encode(b"short").decode(), "32 bytes"),
    ],
)
def test_bad_key_config_rejected(text: str, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        parse_keys(text, "CREDITFLOW_CODEC_KEYS")


def test_codec_constructor_validates() -> None:
    with pytest.raises(ValueError):
        EncryptionCodec({})
    with pytest.raises(ValueError):
        EncryptionCodec({"k": b"too short"})
    with pytest.raises(ValueError):
        EncryptionCodec({"k": os.urandom(32)}, active_kid="nope")


def test_prod_refuses_to_generate_codec_keys(tmp_path) -> None:
    with pytest.raises(KeyGenerationRefused):
        load_codec(Settings(env="prod", var_dir=tmp_path, codec_keys=None))
    assert not (tmp_path / "codec-keys.json").exists()


def test_data_converter_wiring(settings: Settings) -> None:
    conv = data_converter(settings)
    assert isinstance(conv.payload_codec, EncryptionCodec)
    assert conv.failure_converter_class is DefaultFailureConverterWithEncodedAttributes
    assert conv.payload_converter_class is pydantic_data_converter.payload_converter_class
    plain = data_converter(settings.model_copy(update={"encrypt_payloads": False}))
    assert plain.payload_codec is None
