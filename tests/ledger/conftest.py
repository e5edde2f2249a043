"""Fixtures: an evidence log on SQLite (temp file) and on PostgreSQL (a throwaway schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from creditflow.config import Settings
from creditflow.ledger.log import EvidenceLog
from creditflow.ledger.models import LEDGER_TABLES, create_ledger_tables
from creditflow.ledger.records import EvidenceEntry
from creditflow.store.db import Database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


PG_AVAILABLE = _pg_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
        create_ledger_tables(database.engine)
        yield database
        database.dispose()
        return
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    schema = f"ledger_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    database = Database(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        create_ledger_tables(database.engine)
        yield database
    finally:
        database.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=db.url)


@pytest.fixture
def log(db: Database, settings: Settings) -> EvidenceLog:
    return EvidenceLog(db, settings)


def entry(n: int, app: str = "app-1", **overrides: object) -> EvidenceEntry:
    data: dict[str, object] = {
        "idempotency_key": f"{app}:step-{n}",
        "application_id": app,
        "stage": ["analyzing", "scoring", "policy", "in_review", "approved"][n % 5],
        "actor": "auto" if n % 2 else "officer:o-17",
        "recorded_at": T0 + timedelta(minutes=n),
        "inputs": {"document:pay_stub": f"{n:064x}", "features": f"{n + 1000:064x}"},
        "model_version": "scorecard-2025.1",
        "policy_version": "policy-7f3a",
        "outcome": "refer" if n % 3 else "approve",
        "reasons": [{"code": "DTI_HIGH", "text": "Debt payments are high relative to income."}],
        "details": {"score": 612.5 + n, "grade": "C", "amount": 4800.0, "n": n},
    }
    data.update(overrides)
    return EvidenceEntry.model_validate(data)


def drop_guard(engine: Engine) -> None:
    """What an attacker with database access does first."""
    with engine.begin() as c:
        for table in LEDGER_TABLES:
            if engine.dialect.name == "sqlite":
                c.execute(text(f"DROP TRIGGER IF EXISTS {table.name}_no_update"))
                c.execute(text(f"DROP TRIGGER IF EXISTS {table.name}_no_delete"))
            else:
                c.execute(text(f"DROP TRIGGER IF EXISTS {table.name}_append_only ON {table.name}"))
                c.execute(text(f"DROP TRIGGER IF EXISTS {table.name}_no_truncate ON {table.name}"))
