"""Alembic migrations up and down on SQLite and PostgreSQL, and the schema they build equals the models."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from creditflow.config import Settings
from creditflow.store.migrate import downgrade, upgrade

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_available() -> bool:
    try:
        sa.create_engine(PG).connect().close()
        return True
    except Exception:
        return False


def _urls(tmp_path: Path) -> list[str]:
    return [f"sqlite:///{tmp_path / 'm.db'}"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if not _pg_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 not reachable")
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    eng = sa.create_engine(PG)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{PG}?options=-csearch_path%3D{schema}"
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    eng.dispose()


def test_upgrade_downgrade_upgrade(db_url: str, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, database_url=db_url)
    upgrade(settings)
    eng = sa.create_engine(db_url)
    names = set(sa.inspect(eng).get_table_names())
    assert {"applications", "documents", "decisions", "notices", "evidence_records", "evidence_tree_heads"} <= names
    downgrade(settings)
    assert not {"applications", "evidence_records"} & set(sa.inspect(eng).get_table_names())
    upgrade(settings)
    assert "applications" in set(sa.inspect(eng).get_table_names())
    eng.dispose()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import creditflow.ledger.models  # noqa: F401
    import creditflow.store.models  # noqa: F401
    from creditflow.store.db import Base

    url = f"sqlite:///{tmp_path / 'cmp.db'}"
    upgrade(Settings(var_dir=tmp_path, database_url=url))
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_ledger_tables_reject_updates_after_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(Settings(var_dir=tmp_path, database_url=url))
    eng = sa.create_engine(url)
    with eng.connect() as c:
        triggers = {r[0] for r in c.execute(sa.text("SELECT name FROM sqlite_master WHERE type='trigger'"))}
    assert any("evidence_records" in t for t in triggers), triggers
