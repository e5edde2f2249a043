"""Evidence log tables: records, signed tree heads, witness cosignatures. Append-only.

Why three tables: a record is written once with its leaf and chain hash; a signed head is
written once per tree size (the writer's commitment); cosignatures arrive later from
witnesses and must not require updating a head row, because no row here is ever updated.
The code has no update or delete path, and `install_append_only_guard` makes the database
refuse one too (SQLite and PostgreSQL triggers; it also runs automatically after
`create_all` creates these tables).

Columns beside `payload` (application_id, stage, ...) are copies for querying; the verifier
checks that they agree with the canonical payload, which is what the leaf hash covers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditflow.store.db import Base


class EvidenceRecord(Base):
    __tablename__ = "evidence_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    application_id: Mapped[str] = mapped_column(String(80), index=True)
    stage: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text, doc="canonical JSON (RFC 8785) of the record")
    leaf_hash: Mapped[str] = mapped_column(String(64), doc="hex SHA-256(0x00 || payload)")
    chain_hash: Mapped[str] = mapped_column(String(64), doc="hex SHA-256(prev chain || leaf)")


class TreeHead(Base):
    __tablename__ = "evidence_tree_heads"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(BigInteger, doc="ms since epoch, signed")
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128), doc="base64 Ed25519")
    compact_range: Mapped[str] = mapped_column(
        Text, doc="JSON list of hex subtree roots: the writer's O(log n) state; not trusted"
    )


class HeadCosignature(Base):
    __tablename__ = "evidence_cosignatures"
    __table_args__ = (UniqueConstraint("tree_size", "witness_key_id", name="uq_cosig_head_witness"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(Integer, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    witness_key_id: Mapped[str] = mapped_column(String(16))
    witness_public_key: Mapped[str] = mapped_column(Text, doc="PEM")
    cosigned_at: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(128))


LEDGER_TABLES: list[Table] = [
    EvidenceRecord.__table__,  # type: ignore[list-item]
    TreeHead.__table__,  # type: ignore[list-item]
    HeadCosignature.__table__,  # type: ignore[list-item]
]

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION creditflow_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _guard_statements(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'evidence log is append-only: {op} on {table} refused'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            _PG_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION creditflow_ledger_append_only()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION creditflow_ledger_append_only()",
        ]
    return []  # other databases: the code path is still append-only


def _install(connection: Connection, table_name: str) -> None:
    for stmt in _guard_statements(connection.dialect.name, table_name):
        connection.execute(text(stmt))


def install_append_only_guard(engine: Engine) -> None:
    """Make the database reject UPDATE/DELETE (and TRUNCATE on PostgreSQL) on ledger tables.

    Idempotent; safe to call on every start and from a migration."""
    with engine.begin() as conn:
        for table in LEDGER_TABLES:
            _install(conn, table.name)


def create_ledger_tables(engine: Engine) -> None:
    """Create only the ledger tables (with their guards): for tests and the witness-free CLI."""
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)


for _table in LEDGER_TABLES:
    event.listen(
        _table,
        "after_create",
        lambda target, connection, **_kw: _install(connection, target.name),
    )
