"""Reading and writing applications, documents, decisions and notices.

Functions take a `Session`, so callers choose the transaction; writes keyed by a natural
idempotency key turn retries (Temporal activities, HTTP clients) into no-ops.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Select, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creditflow.schemas import ApplicationCreate
from creditflow.store.models import Application, DecisionRecord, Document, NoteAnalysis, Notice


# Core tables for the statements the worker and API run for every application: an UPDATE or SELECT on
# the table skips the ORM's statement processing that the same statement on the mapped class goes
# through (about half the CPU of such an UPDATE on SQLite, benchmarks/RESULTS.md).
APPLICATIONS = Application.__table__
DOCUMENTS = Document.__table__
DECISIONS = DecisionRecord.__table__
NOTICES = Notice.__table__
NOTE_ANALYSES = NoteAnalysis.__table__

# The statements the worker runs for every application are built once, with bound parameters, and reused:
# building a statement and computing its cache key on each call cost several times what executing it
# does (~85 vs ~20 us for an UPDATE on SQLite), and these run ~10 times per decision.
_A, _D, _N = APPLICATIONS.c, DOCUMENTS.c, NOTE_ANALYSES.c
_SET_OUTCOME = update(APPLICATIONS).where(_A.id == bindparam("app_id")).returning(_A.created_at)
_DOCS_FOR_ANALYSIS = select(_D.id, _D.application_id, _D.sha256, _D.media_type, _D.status, _D.analysis,
                            _D.analysis_sha256, _D.text_sha256).where(_D.id.in_(bindparam("ids", expanding=True)))
_SAVE_ANALYSIS = update(DOCUMENTS).where(_D.id == bindparam("doc_id")).values(
    text_sha256=bindparam("new_text_sha256"), doc_type=bindparam("new_doc_type"), status="analyzed")
_SAVE_ANALYSIS_WITH_PAYLOAD = _SAVE_ANALYSIS.values(analysis=bindparam("new_analysis"),
                                                    analysis_sha256=bindparam("new_analysis_sha256"))
_MARK_SUBMITTED = (update(APPLICATIONS).where(_A.id == bindparam("app_id"), _A.submitted_at.is_(None))
                   .values(submitted_at=bindparam("at")))
_DOCUMENT_CLAIMS = (select(_D.id, _D.sha256).where(_D.application_id == bindparam("app_id"))
                    .order_by(_D.created_at, _D.id))
_INSERT_DOCUMENT = insert(DOCUMENTS)
_NOTE_PAYLOADS = select(_N.note_index, _N.analysis).where(_N.application_id == bindparam("app_id"))


@lru_cache(maxsize=64)
def _columns_of_application(columns: tuple[str, ...]) -> Select:
    return select(*(_A[c] for c in columns)).where(_A.id == bindparam("app_id"))


@lru_cache(maxsize=16)
def _insert_once(dialect: str, table_name: str) -> Insert:
    """INSERT that does nothing when the row's unique key exists (a retried step): one statement instead
    of a SELECT then an INSERT, and no IntegrityError when two attempts race. SQLite and PostgreSQL
    spell it the same way; other databases get a plain INSERT (the unique key still refuses a duplicate)."""
    table = {t.name: t for t in (DECISIONS, NOTICES, NOTE_ANALYSES)}[table_name]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return insert(table).returning(table.c.id)
    # RETURNING tells whether a row went in (psycopg reports no rowcount for these statements)
    return dialect_insert(table).on_conflict_do_nothing().returning(table.c.id)


def _insert_row_once(s: Session, table_name: str, values: dict[str, Any]) -> bool:
    """Insert unless the row's unique key is taken; True when this call inserted it."""
    return s.execute(_insert_once(s.get_bind().dialect.name, table_name), values).first() is not None


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was used with a different request body."""


def request_hash(body: ApplicationCreate) -> str:
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def new_application_id() -> str:
    return uuid.uuid4().hex[:20]


def workflow_id_for(application_id: str) -> str:
    return f"application-{application_id}"


def find_by_idempotency(s: Session, owner_sub: str, key: str) -> Application | None:
    return s.scalar(
        select(Application).where(Application.owner_sub == owner_sub, Application.idempotency_key == key)
    )


def create_application(
    s: Session, owner_sub: str, body: ApplicationCreate, idempotency_key: str | None
) -> tuple[Application, bool]:
    """Insert an application, or return the one created earlier with the same key and body.

    Returns (application, created). Concurrency-safe: the unique constraint decides the winner.
    """
    digest = request_hash(body)
    idempotency_key = idempotency_key or None  # "" is no key, not a key shared by everyone
    if idempotency_key:
        existing = find_by_idempotency(s, owner_sub, idempotency_key)
        if existing is not None:
            if existing.request_sha256 != digest:
                raise IdempotencyConflict(idempotency_key)
            return existing, False
    app_id = new_application_id()
    row = Application(
        id=app_id,
        owner_sub=owner_sub,
        idempotency_key=idempotency_key,
        request_sha256=digest,
        product=body.product,
        currency=body.currency,
        requested_amount=body.requested_amount,
        term_months=body.term_months,
        purpose=body.purpose,
        applicant=body.applicant.model_dump(mode="json"),
        notes=list(body.notes),
        workflow_id=workflow_id_for(app_id),
    )
    s.add(row)
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        if idempotency_key:
            existing = find_by_idempotency(s, owner_sub, idempotency_key)
            if existing is not None:
                if existing.request_sha256 != digest:
                    raise IdempotencyConflict(idempotency_key) from None
                return existing, False
        raise
    return row, True


def get_application(s: Session, application_id: str) -> Application | None:
    return s.get(Application, application_id)


def set_application_outcome(s: Session, application_id: str, stage: str, status: str,
                            decision: dict[str, Any] | None) -> datetime | None:
    """Set stage, status and (when given) the decision shown to the applicant; returns the
    application's creation time, or None when there is no such application."""
    values: dict[str, Any] = {"app_id": application_id, "stage": stage, "status": status}
    if decision is not None:
        values["decision"] = decision
    return s.execute(_SET_OUTCOME, values).scalar_one_or_none()


def application_columns(s: Session, application_id: str, *columns: str) -> Any | None:
    """Some columns of an application by name (None: no such application), without loading the whole
    row: the worker and the API read a few of them for every application, never all of them."""
    return s.execute(_columns_of_application(columns), {"app_id": application_id}).one_or_none()


def mark_submitted(s: Session, application_id: str, at: datetime) -> None:
    """Record the first submit; a repeated submit keeps the first time."""
    s.execute(_MARK_SUBMITTED, {"app_id": application_id, "at": at})


def document_claims(s: Session, application_id: str) -> list[Any]:
    """(id, sha256) of an application's documents in upload order: the claim checks a workflow gets."""
    return list(s.execute(_DOCUMENT_CLAIMS, {"app_id": application_id}))


def add_document(s: Session, application_id: str, sha256: str, media_type: str, size: int, filename: str | None,
                 analysis: dict[str, Any] | None = None, analysis_sha256: str | None = None) -> str:
    """Insert a document (with the analysis made at upload, if any: then it is `classified`) in one
    statement; returns its id."""
    doc_id = uuid.uuid4().hex[:20]
    row: dict[str, Any] = {"id": doc_id, "application_id": application_id, "sha256": sha256,
                           "media_type": media_type, "size": size, "filename": (filename or "")[:255] or None}
    if analysis is not None:
        row.update(analysis=analysis, analysis_sha256=analysis_sha256, doc_type=analysis.get("doc_type"),
                   status="classified")
    s.execute(_INSERT_DOCUMENT, row)
    return doc_id


def documents_for_analysis(s: Session, document_ids: list[str]) -> dict[str, Any]:
    """The columns analysis needs (application, hash, type, status, any stored analysis and its hash)
    of several documents in one query, without loading ORM objects: the worker does this for every
    document of every application."""
    if not document_ids:
        return {}
    return {r.id: r for r in s.execute(_DOCS_FOR_ANALYSIS, {"ids": list(document_ids)})}


def save_document_analysis(s: Session, document_id: str, text_sha256: str, doc_type: str | None,
                           analysis: dict[str, Any] | None, digest: str) -> None:
    """Mark a document analysed; `analysis` None keeps the stored analysis (it is already this one)."""
    params: dict[str, Any] = {"doc_id": document_id, "new_text_sha256": text_sha256, "new_doc_type": doc_type}
    if analysis is None:
        s.execute(_SAVE_ANALYSIS, params)
    else:
        s.execute(_SAVE_ANALYSIS_WITH_PAYLOAD, {**params, "new_analysis": analysis, "new_analysis_sha256": digest})


def documents_for(s: Session, application_id: str) -> list[Document]:
    return list(s.scalars(select(Document).where(Document.application_id == application_id)
                          .order_by(Document.created_at)))


def save_note_analysis(s: Session, application_id: str, index: int, analysis: dict[str, Any], digest: str) -> None:
    _insert_row_once(s, NOTE_ANALYSES.name, {"application_id": application_id, "note_index": index,
                                             "analysis": analysis, "analysis_sha256": digest})


def note_analysis_payloads(s: Session, application_id: str) -> dict[int, dict[str, Any]]:
    """Stored note analyses by note index (columns only: read for every application the worker decides)."""
    return {r.note_index: r.analysis for r in s.execute(_NOTE_PAYLOADS, {"app_id": application_id})}


def note_analyses_for(s: Session, application_id: str) -> list[NoteAnalysis]:
    return list(s.scalars(select(NoteAnalysis).where(NoteAnalysis.application_id == application_id)
                          .order_by(NoteAnalysis.note_index)))


def record_decision(s: Session, key: str, application_id: str, kind: str, actor: str, outcome: str,
                    payload: dict[str, Any], inputs: dict[str, Any] | None = None,
                    comment: str | None = None) -> bool:
    """Insert a decision step once per key; False when it was recorded already (a retry)."""
    return _insert_row_once(s, DECISIONS.name, {"key": key, "application_id": application_id, "kind": kind,
                                                "actor": actor, "outcome": outcome, "payload": payload,
                                                "inputs": inputs, "comment": comment})


def decisions_for(s: Session, application_id: str | None = None) -> list[DecisionRecord]:
    q = select(DecisionRecord).order_by(DecisionRecord.id)
    if application_id:
        q = q.where(DecisionRecord.application_id == application_id)
    return list(s.scalars(q))


def add_notice(s: Session, key: str, application_id: str, kind: str, body: dict[str, Any]) -> None:
    _insert_row_once(s, NOTICES.name, {"key": key, "application_id": application_id, "kind": kind, "body": body})


def notices_for(s: Session, application_id: str) -> list[Notice]:
    return list(s.scalars(select(Notice).where(Notice.application_id == application_id).order_by(Notice.id)))
