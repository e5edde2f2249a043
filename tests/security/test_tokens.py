"""TokenService: issue/verify, every way a token must be refused, key files, rotation."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditflow.config import Settings
from creditflow.security.keyfiles import KeyGenerationRefused
from creditflow.security.tokens import InvalidToken, Principal, TokenService


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_issue_and_verify_round_trip(settings: Settings) -> None:
    svc = TokenService(settings)
    token = svc.issue("officer-7", "officer")
    principal = svc.verify(token)
    assert principal == Principal(sub="officer-7", role="officer")
    assert principal.is_staff
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == svc.current_kid
    claims = _claims(token)
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.jwt_ttl_seconds


def test_is_staff_per_role() -> None:
    assert not Principal(sub="a", role="applicant").is_staff
    for role in ("officer", "senior_officer", "admin"):
        assert Principal(sub="a", role=role).is_staff


def test_another_process_verifies_with_keys_on_disk(settings: Settings) -> None:
    token = TokenService(settings).issue("app-1", "applicant")
    assert TokenService(settings).verify(token).role == "applicant"


def test_key_files_are_private(settings: Settings) -> None:
    svc = TokenService(settings)
    svc.issue("x", "admin")
    assert stat.S_IMODE(os.stat(svc.key_dir).st_mode) == 0o700
    pems = list(svc.key_dir.glob("*.pem"))
    assert len(pems) == 1
    assert stat.S_IMODE(os.stat(pems[0]).st_mode) == 0o600


def test_expired_token_refused(settings: Settings) -> None:
    svc = TokenService(settings)
    kid = svc.current_kid
    key = svc._private[kid]
    now = int(time.time())
    token = jwt.encode(
        {"sub": "a", "role": "officer", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
         "iat": now - 3600, "exp": now - 60},
        key, algorithm="EdDSA", headers={"kid": kid},
    )
    with pytest.raises(InvalidToken, match="expired"):
        svc.verify(token)


def test_wrong_audience_and_issuer_refused(settings: Settings) -> None:
    other_aud = Settings(env="test", var_dir=settings.var_dir, jwt_audience="someone-else")
    other_iss = Settings(env="test", var_dir=settings.var_dir, jwt_issuer="evil")
    svc = TokenService(settings)
    with pytest.raises(InvalidToken, match="audience"):
        svc.verify(TokenService(other_aud).issue("a", "officer"))
    with pytest.raises(InvalidToken, match="issuer"):
        svc.verify(TokenService(other_iss).issue("a", "officer"))


def test_tampered_payload_refused(settings: Settings) -> None:
    svc = TokenService(settings)
    token = svc.issue("app-1", "applicant")
    head, payload, sig = token.split(".")
    claims = _claims(token)
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        svc.verify(f"{head}.{forged}.{sig}")


def test_foreign_key_with_same_kid_refused(settings: Settings) -> None:
    svc = TokenService(settings)
    now = int(time.time())
    token = jwt.encode(
        {"sub": "a", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
         "iat": now, "exp": now + 60},
        Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": svc.current_kid},
    )
    with pytest.raises(InvalidToken, match="signature"):
        svc.verify(token)


def test_unknown_kid_refused(settings: Settings, tmp_path) -> None:
    other = TokenService(Settings(env="test", var_dir=tmp_path / "other"))
    with pytest.raises(InvalidToken, match="unknown signing key"):
        TokenService(settings).verify(other.issue("a", "officer"))


def test_algorithm_confusion_refused(settings: Settings) -> None:
    svc = TokenService(settings)
    now = int(time.time())
    claims = {"sub": "a", "role": "admin", "iss": settings.jwt_issuer,
              "aud": settings.jwt_audience, "iat": now, "exp": now + 60}
    hs = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": svc.current_kid})
    with pytest.raises(InvalidToken, match="algorithm"):
        svc.verify(hs)
    none = jwt.encode(claims, None, algorithm="none", headers={"kid": svc.current_kid})
    with pytest.raises(InvalidToken):
        svc.verify(none)


def test_missing_claims_and_bad_role_refused(settings: Settings) -> None:
    svc = TokenService(settings)
    kid = svc.current_kid
    now = int(time.time())
    base = {"sub": "a", "role": "officer", "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience, "iat": now, "exp": now + 60}
    no_exp = {k: v for k, v in base.items() if k != "exp"}
    with pytest.raises(InvalidToken, match="missing claim exp"):
        svc.verify(jwt.encode(no_exp, svc._private[kid], algorithm="EdDSA", headers={"kid": kid}))
    bad_role = {**base, "role": "superuser"}
    with pytest.raises(InvalidToken, match="role"):
        svc.verify(jwt.encode(bad_role, svc._private[kid], algorithm="EdDSA", headers={"kid": kid}))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_malformed_refused(settings: Settings, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        TokenService(settings).verify(garbage)


def test_issue_rejects_unknown_role(settings: Settings) -> None:
    with pytest.raises(ValueError):
        TokenService(settings).issue("a", "root")  # type: ignore[arg-type]


def test_rotation_newest_signs_all_verify(settings: Settings) -> None:
    svc = TokenService(settings)
    old_token = svc.issue("a", "officer")
    old_kid = svc.current_kid
    new_kid = svc.rotate()
    assert new_kid != old_kid
    assert svc.key_ids == [old_kid, new_kid]
    new_token = svc.issue("b", "officer")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert svc.verify(old_token).sub == "a"
    assert svc.verify(new_token).sub == "b"
    # Retiring the old key (deleting its file) stops old tokens in a fresh process.
    (svc.key_dir / f"{old_kid}.pem").unlink()
    fresh = TokenService(settings)
    assert fresh.verify(new_token).sub == "b"
    with pytest.raises(InvalidToken, match="unknown signing key"):
        fresh.verify(old_token)


def test_key_rotated_by_another_process_is_picked_up(settings: Settings) -> None:
    api = TokenService(settings)
    api.issue("warm", "officer")  # api has loaded the first key
    cli = TokenService(settings)
    cli.rotate()
    token = cli.issue("a", "admin")
    assert api.verify(token).role == "admin"


def test_prod_refuses_to_generate_keys(tmp_path) -> None:
    prod = Settings(env="prod", var_dir=tmp_path / "var")
    with pytest.raises(KeyGenerationRefused, match="ALLOW_GENERATED_KEYS"):
        TokenService(prod).issue("a", "officer")
    assert not (tmp_path / "var" / "jwt-keys").exists()
    allowed = Settings(env="prod", var_dir=tmp_path / "var", allow_generated_keys=True)
    token = TokenService(allowed).issue("a", "officer")
    # once provisioned, prod uses the keys without the flag
    assert TokenService(prod).verify(token).sub == "a"


def test_unknown_kid_does_not_reread_unchanged_key_dir(settings: Settings, monkeypatch) -> None:
    svc = TokenService(settings)
    svc.issue("warm", "officer")
    loads = []
    real_load = svc._load
    monkeypatch.setattr(svc, "_load", lambda: (loads.append(1), real_load())[1])
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "a", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
         "iat": now, "exp": now + 60},
        Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "made-up"},
    )
    for _ in range(3):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            svc.verify(forged)
    assert loads == []
