"""Signed bearer tokens (JWT, EdDSA/Ed25519) carrying who the caller is and which role they hold.

Why asymmetric keys: only the process holding the private key (API, `creditflow token`) can
mint tokens, while anything with the public key can verify them; there is no shared secret
that a leaked config file or the repository could give away. Keys live under
`var_dir/jwt-keys/` (dir 0700, files 0600), are created on first use in dev/test only, and
carry a key id (`kid`) in the token header so keys can be rotated: the newest key signs,
every key on disk verifies, until an operator deletes a retired one.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from creditflow.config import Settings
from creditflow.security.keyfiles import (
    exclusive,
    new_key_id,
    private_dir,
    refuse_unless_allowed,
    write_secret,
)

Role = Literal["applicant", "officer", "senior_officer", "admin"]
STAFF_ROLES: frozenset[str] = frozenset({"officer", "senior_officer", "admin"})

ALGORITHM = "EdDSA"
LEEWAY_SECONDS = 10  # clock skew between API replicas and the CLI, nothing more
KEY_SUFFIX = ".pem"


class InvalidToken(Exception):
    """The token cannot be trusted; the message is short and safe to show to the caller."""


class Principal(BaseModel):
    """The authenticated caller, as the API handlers see it."""

    model_config = ConfigDict(frozen=True)

    sub: str = Field(min_length=1, max_length=200)
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class TokenService:
    """Issues and verifies JWTs with keys from `settings.var_dir / "jwt-keys"`.

    Thread-safe; cheap to verify (public keys are cached). When a token names a key id this
    process has not seen, the key directory is re-read once, so a key rotated by another
    process (`creditflow token` after `rotate()`) is picked up without a restart.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key_dir: Path = settings.var_dir / "jwt-keys"
        self._lock = threading.Lock()
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._public: dict[str, Ed25519PublicKey] = {}
        self._loaded = False
        self._dir_mtime_ns: int | None = None

    # ---- keys -----------------------------------------------------------------------------

    def _load(self) -> None:
        """(Re)read every key on disk; kids sort by creation time, so the last one is newest."""
        private: dict[str, Ed25519PrivateKey] = {}
        self._dir_mtime_ns = self._key_dir_mtime()
        if self.key_dir.is_dir():
            for path in sorted(self.key_dir.glob(f"*{KEY_SUFFIX}")):
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(key, Ed25519PrivateKey):
                    raise ValueError(f"{path} is not an Ed25519 private key")
                private[path.name.removesuffix(KEY_SUFFIX)] = key
        self._private = private
        self._public = {kid: key.public_key() for kid, key in private.items()}
        self._loaded = True

    def _key_dir_mtime(self) -> int | None:
        try:
            return self.key_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _ensure_keys(self) -> None:
        with self._lock:
            if not self._loaded:
                self._load()
            if self._private:
                return
            refuse_unless_allowed(self.settings, f"JWT signing keys in {self.key_dir}")
            private_dir(self.key_dir)
            with exclusive(self.key_dir / ".lock"):
                self._load()  # another process may have won the race
                if not self._private:
                    self._write_new_key()
                    self._load()

    def _write_new_key(self) -> str:
        kid = new_key_id()
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret(self.key_dir / f"{kid}{KEY_SUFFIX}", pem)
        return kid

    def rotate(self) -> str:
        """Add a new signing key and return its kid; older keys keep verifying until removed."""
        private_dir(self.key_dir)
        with self._lock, exclusive(self.key_dir / ".lock"):
            kid = self._write_new_key()
            self._load()
        return kid

    @property
    def key_ids(self) -> list[str]:
        """All known kids, oldest first (the last one signs)."""
        self._ensure_keys()
        return list(self._private)

    @property
    def current_kid(self) -> str:
        return self.key_ids[-1]

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The verification keys as a JWKS document, for other services that verify tokens."""
        self._ensure_keys()
        keys = []
        for kid, pub in self._public.items():
            jwk = jwt.algorithms.OKPAlgorithm.to_jwk(pub, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}

    # ---- tokens ---------------------------------------------------------------------------

    def issue(self, sub: str, role: Role, ttl_seconds: int | None = None) -> str:
        """Sign a token for `sub` with `role`, valid for `ttl_seconds` (default from settings)."""
        principal = Principal(sub=sub, role=role)  # validates role and subject before signing
        ttl = self.settings.jwt_ttl_seconds if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._ensure_keys()
        kid = self.current_kid
        now = int(time.time())
        claims = {
            "sub": principal.sub,
            "role": principal.role,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self._private[kid], algorithm=ALGORITHM, headers={"kid": kid})

    def _public_key(self, kid: str) -> Ed25519PublicKey:
        self._ensure_keys()
        key = self._public.get(kid)
        # Rotated by another process since we last looked? Re-read only if the directory
        # changed, so tokens with made-up kids cannot make every request hit the disk.
        if key is None and self._key_dir_mtime() != self._dir_mtime_ns:
            with self._lock:
                self._load()
            key = self._public.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        return key

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token or raise `InvalidToken` with a short reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected signing algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        key = self._public_key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("wrong issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("bad signature") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"missing claim {exc.claim}") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        if claims["iat"] > time.time() + LEEWAY_SECONDS:
            raise InvalidToken("token issued in the future")
        try:
            return Principal(sub=claims["sub"], role=claims.get("role"))
        except ValidationError as exc:
            raise InvalidToken("invalid subject or role") from exc
