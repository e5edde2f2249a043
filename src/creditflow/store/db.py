"""Database engine and sessions: SQLite by default, PostgreSQL via CREDITFLOW_DATABASE_URL.

Every table of the system (store and ledger) hangs off one `Base.metadata`, so Alembic sees
one schema and tests can create it in a temporary database with `create_all`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


# SQLite durability in WAL mode (the dev / single-machine store; production runs PostgreSQL):
# FULL fsyncs the WAL on every commit; NORMAL fsyncs at checkpoints, so a power loss (not a process
# crash) can roll back the last commits. CREDITFLOW_SQLITE_SYNCHRONOUS overrides.
SQLITE_SYNCHRONOUS_VALUES = ("FULL", "NORMAL", "EXTRA")


def sqlite_synchronous() -> str:
    value = os.environ.get("CREDITFLOW_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    if value not in SQLITE_SYNCHRONOUS_VALUES:
        raise ValueError(f"CREDITFLOW_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS_VALUES)}")
    return value


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        synchronous = sqlite_synchronous()
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # API and worker write concurrently
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """Owns an engine and hands out transactional sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def create_all(self) -> None:
        """For tests and first start; production runs Alembic migrations."""
        import creditflow.store.models  # noqa: F401  (registers tables)
        import creditflow.ledger.models  # noqa: F401
        import creditflow.store.alerts  # noqa: F401  (servicing alert tasks)

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
