from pathlib import Path

import pytest

from creditflow.store.blobs import BlobIntegrityError, BlobStore


def test_content_addressed_and_verified_on_read(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"pay stub")
    assert store.put(b"pay stub") == sha  # same bytes, same name, stored once
    assert store.get(sha) == b"pay stub"
    path = tmp_path / sha[:2] / sha[2:]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    path.write_bytes(b"tampered")
    with pytest.raises(BlobIntegrityError):
        store.get(sha)


def test_names_are_hashes_never_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).get("../../etc/passwd")
