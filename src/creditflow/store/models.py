"""Tables for applications, documents, decisions and applicant notices.

Decisions are rows that are only ever inserted (who, when, what they saw), so the history of
an application can be read back without Temporal; the workflow remains the source of truth
for the live stage.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditflow.store.db import Base


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("owner_sub", "idempotency_key", name="uq_app_idempotency"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_sub: Mapped[str] = mapped_column(String(200), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    requested_amount: Mapped[float] = mapped_column(Float)
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)
    applicant: Mapped[dict] = mapped_column(JSON)
    notes: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(40), default="awaiting_documents")
    stage: Mapped[str] = mapped_column(String(40), default="awaiting_documents")
    workflow_id: Mapped[str] = mapped_column(String(80))
    decision: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Set by POST /submit before it reads the documents it hands to the workflow: an upload that finds
    # it unset may leave telling the workflow to the submit (see api/routes/applications.py).
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)  # display only
    text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    doc_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    analysis: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    analysis_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(30), default="received")  # received|analyzed|unreadable
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NoteAnalysis(Base):
    __tablename__ = "note_analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    note_index: Mapped[int] = mapped_column(Integer)
    analysis: Mapped[dict] = mapped_column(JSON)
    analysis_sha256: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("application_id", "note_index", name="uq_note_analysis"),)


class DecisionRecord(Base):
    """An automatic or human decision step; insert-only."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: workflow id + step
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # auto | officer | final
    actor: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    inputs: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # DecisionInput (for simulate)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notice(Base):
    """What the applicant was told: info requests, incomplete-application and decision notices."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
