"""Secret key files on disk: private directories, 0600 files, atomic writes, one writer at a time.

Why a module of its own: the JWT signing keys and the payload-encryption keys follow the same
rules (never in the repository, created on first use only in dev/test, readable by the owner
only), and the API, the worker and the CLI may all start at once and race to create them.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from creditflow.config import Settings

DEV_ENVS = frozenset({"dev", "test"})


class KeyGenerationRefused(RuntimeError):
    """Raised when keys are missing in an environment where they must be provisioned."""


def may_generate_keys(settings: Settings) -> bool:
    """Keys may be generated on first use in dev/test, elsewhere only when explicitly allowed.

    In production a silently generated key would sign tokens no other replica trusts and
    encrypt payloads no other worker can read, so a missing key is an error there.
    """
    return settings.env in DEV_ENVS or settings.allow_generated_keys


def refuse_unless_allowed(settings: Settings, what: str) -> None:
    if not may_generate_keys(settings):
        raise KeyGenerationRefused(
            f"{what} missing and CREDITFLOW_ENV={settings.env!r}: provision the keys or set "
            "CREDITFLOW_ALLOW_GENERATED_KEYS=true once on purpose (see docs/SECURITY.md)"
        )


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_secret(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically with mode 0600 (never world-readable, even briefly)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock so concurrent processes create a key only once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def new_key_id() -> str:
    """A key id that sorts by creation time (UTC, microseconds) and cannot collide in practice."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"
