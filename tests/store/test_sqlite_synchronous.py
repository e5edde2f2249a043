"""SQLite durability setting of the dev store (CREDITFLOW_SQLITE_SYNCHRONOUS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from creditflow.store.db import Database


def _synchronous(db: Database) -> int:
    with db.session() as s:
        return int(s.execute(text("PRAGMA synchronous")).scalar_one())


def test_full_by_default_and_normal_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITFLOW_SQLITE_SYNCHRONOUS", raising=False)
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    assert _synchronous(db) == 2  # FULL: every commit is on disk before it returns
    db.dispose()
    monkeypatch.setenv("CREDITFLOW_SQLITE_SYNCHRONOUS", "normal")
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    assert _synchronous(db) == 1
    db.dispose()


def test_unknown_value_is_refused_with_the_allowed_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITFLOW_SQLITE_SYNCHRONOUS", "off; DROP TABLE x")
    with pytest.raises(ValueError, match="FULL, NORMAL, EXTRA"):
        Database(f"sqlite:///{tmp_path / 'c.db'}")
