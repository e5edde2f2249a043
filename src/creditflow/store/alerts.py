"""Servicing alert tasks: early-warning actions on a credit line that an officer must look at.

Why a table and not the line's state: the line workflow keeps its last alerts for display,
but an officer queue needs what a workflow state cannot give cheaply: one list across every
line, an SLA, and a resolution (who closed it, when, why). The credit-line activity
`record_line_event` writes a row here for each action named in
models/policy/servicing_alerts.yml (watch list, freeze, limit reduction), idempotently on the
same key as the action's evidence record, so a retried activity never raises a second task.
The review API lists open rows as the `servicing` queue and resolves them.

Pure library code: SQLAlchemy sessions and plain data, no Temporal, no HTTP, no clock (the
caller passes every time).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Date, DateTime, Float, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from creditflow.config import REPO_ROOT
from creditflow.store.db import Base, Database

POLICY_PATH = REPO_ROOT / "models" / "policy" / "servicing_alerts.yml"
QUEUE = "servicing"
STAGE = "alert"


# ---------------------------------------------------------------- policy data

class AlertPolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    changelog: list[str] = Field(default_factory=list)
    queue: str = Field(pattern=r"^[a-z_]+$")
    actions: list[str] = Field(min_length=1)
    sla_business_days: int = Field(ge=0, le=30)


class AlertPolicy(BaseModel):
    """The loaded file plus its sha256 (`version`), recorded on every alert."""

    model_config = ConfigDict(frozen=True)

    spec: AlertPolicyFile
    version: str

    def raises_task(self, action: str | None) -> bool:
        return action is not None and action in self.spec.actions

    def sla_due_at(self, raised_at: datetime) -> datetime:
        return add_business_days(raised_at, self.spec.sla_business_days)


def load_alert_policy(path: Path | None = None) -> AlertPolicy:
    """Load and validate the alert policy; cached per file content (edits apply at once)."""
    return _load_cached((path or POLICY_PATH).read_bytes())


@lru_cache(maxsize=4)
def _load_cached(raw: bytes) -> AlertPolicy:
    return AlertPolicy(spec=AlertPolicyFile.model_validate(yaml.safe_load(raw)),
                       version=hashlib.sha256(raw).hexdigest())


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` weekdays (Mon-Fri), keeping the time of day.

    Friday 10:00 + 2 -> Tuesday 10:00; Saturday 10:00 + 2 -> Tuesday 10:00 (the weekend does
    not count). No holiday calendar: a bank holiday counts as a working day.
    """
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


# ---------------------------------------------------------------- table

class ServicingAlert(Base):
    """One alert task. Inserted by the line's activity, resolved once by an officer."""

    __tablename__ = "servicing_alerts"
    __table_args__ = (UniqueConstraint("key", name="uq_servicing_alert_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))  # = the action's evidence idempotency key
    queue: Mapped[str] = mapped_column(String(20), default=QUEUE)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | resolved
    application_id: Mapped[str] = mapped_column(String(80), index=True)  # the line's application
    workflow_id: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    reason_code: Mapped[str | None] = mapped_column(String(80), nullable=True)
    rule_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    policy_version: Mapped[str | None] = mapped_column(String(64), nullable=True)  # early-warning policy
    sla_policy_version: Mapped[str] = mapped_column(String(64))  # servicing_alerts.yml
    raised_on: Mapped[date] = mapped_column(Date)  # the line's (workflow) date of the action
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    evidence_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the action's record
    # what the line looked like when the action was taken (None when the line did not answer)
    product: Mapped[str | None] = mapped_column(String(40), nullable=True)
    balance: Mapped[float | None] = mapped_column(Float, nullable=True)
    credit_limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(2), nullable=True)
    bucket: Mapped[str | None] = mapped_column(String(10), nullable=True)
    days_past_due: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution_evidence_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


# ---------------------------------------------------------------- boundary types

class LineSnapshot(BaseModel):
    """The line's figures shown on the task (read from the line's `status` query)."""

    product: str | None = None
    balance: float | None = None
    credit_limit: float | None = None
    grade: str | None = None
    bucket: str | None = None
    days_past_due: int | None = None


class NewAlert(BaseModel):
    """What the activity knows when an action is recorded."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    application_id: str = Field(min_length=1, max_length=80)
    workflow_id: str = Field(min_length=1, max_length=120)
    action: str
    reason_code: str | None = None
    rule_id: str | None = None
    policy_version: str | None = None
    raised_on: date
    raised_at: datetime
    evidence_seq: int | None = None
    line: LineSnapshot = Field(default_factory=LineSnapshot)


def alert_id(key: str) -> str:
    """Stable id from the idempotency key: the same action always gets the same task id."""
    return "sa-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)  # SQLite hands back naive UTC


# ---------------------------------------------------------------- repository

def raise_alert(db: Database, new: NewAlert, policy: AlertPolicy) -> tuple[ServicingAlert, bool]:
    """Insert the task once per key; returns (row, created). A retry or a concurrent writer
    with the same key gets the row already stored."""
    raised_at = _aware(new.raised_at)
    assert raised_at is not None
    for _ in range(3):
        with db.session() as s:
            existing = s.scalars(select(ServicingAlert).where(ServicingAlert.key == new.key)).first()
            if existing is not None:
                return existing, False
        try:
            with db.session() as s:
                row = ServicingAlert(
                    id=alert_id(new.key), key=new.key, queue=policy.spec.queue, status="open",
                    application_id=new.application_id, workflow_id=new.workflow_id, action=new.action,
                    reason_code=new.reason_code, rule_id=new.rule_id, policy_version=new.policy_version,
                    sla_policy_version=policy.version, raised_on=new.raised_on, raised_at=raised_at,
                    sla_due_at=policy.sla_due_at(raised_at), evidence_seq=new.evidence_seq,
                    **new.line.model_dump(),
                )
                s.add(row)
            return row, True
        except IntegrityError:
            continue  # lost the race to the same key: read the winner's row
    raise RuntimeError(f"could not store servicing alert {new.key!r}")


def list_alerts(s: Session, status: str = "open", assignee: str | None = None,
                limit: int = 500) -> list[ServicingAlert]:
    """Oldest deadline first, as an inbox is worked."""
    q = select(ServicingAlert).where(ServicingAlert.status == status)
    if assignee is not None:
        q = q.where(ServicingAlert.assignee == assignee)
    return list(s.scalars(q.order_by(ServicingAlert.sla_due_at, ServicingAlert.id).limit(limit)))


def get_alert(s: Session, alert_id_: str) -> ServicingAlert | None:
    return s.get(ServicingAlert, alert_id_)


def mark_resolved(s: Session, alert_id_: str, by: str, role: str, comment: str, at: datetime) -> bool:
    """Close an open task atomically: False when it was not open (already resolved, or a
    concurrent resolver won), so exactly one resolution is ever recorded."""
    result = s.execute(
        update(ServicingAlert)
        .where(ServicingAlert.id == alert_id_, ServicingAlert.status == "open")
        .values(status="resolved", resolved_by=by, resolved_role=role, resolved_at=at,
                resolution_comment=comment)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reopen(s: Session, alert_id_: str) -> None:
    """Undo `mark_resolved` when its evidence record could not be written."""
    s.execute(update(ServicingAlert).where(ServicingAlert.id == alert_id_).values(
        status="open", resolved_by=None, resolved_role=None, resolved_at=None, resolution_comment=None))


def task_item(a: ServicingAlert) -> dict[str, Any]:
    """The review-inbox item: DESIGN.md's task shape plus the alert's own fields. No PII,
    only codes, amounts and ids."""
    due = _aware(a.sla_due_at)
    resolved_at = _aware(a.resolved_at)
    return {
        "id": a.id, "application_id": a.application_id, "queue": a.queue, "product": a.product,
        "amount": a.balance, "grade": a.grade, "stage": STAGE,
        "sla_due_at": due.isoformat() if due else None, "assignee": a.assignee,
        "reason_code": a.reason_code, "action": a.action, "rule_id": a.rule_id, "status": a.status,
        "bucket": a.bucket, "days_past_due": a.days_past_due, "credit_limit": a.credit_limit,
        "raised_on": a.raised_on.isoformat(), "workflow_id": a.workflow_id,
        "evidence_seq": a.evidence_seq, "resolved_by": a.resolved_by,
        "resolved_at": resolved_at.isoformat() if resolved_at else None,
        "resolution_evidence_seq": a.resolution_evidence_seq,
    }
