"""Officer endpoints: the review inbox (visibility query) and claim/release/decide (Workflow Updates).

The inbox is listed from search attributes (they lag ~100 ms); a task's details are read
with the workflow's `status` query. Validator rejections come back as typed ApplicationErrors
and are mapped to 403 / 409 / 422 by `_update_error`.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from creditflow.api.deps import StaffDep
from creditflow.api.problems import ProblemError
from creditflow.api.routes.applications import docs_and_notices, load_visible, query_status
from creditflow.api.temporal_dep import TemporalDep
from creditflow.schemas import encodable
from workflows import search_attributes as sa
from workflows.credit_application_types import ClaimInput, DecideInput, ReleaseInput

router = APIRouter(prefix="/v1/review", tags=["review"])

QUEUES_FOR_ROLE = {
    "officer": ("officer",),
    "senior_officer": ("officer", "senior", "committee"),
    "admin": ("officer", "senior", "committee"),
}
STATUS_FOR_ERROR = {"forbidden": 403, "four_eyes": 403, "conflict": 409, "invalid": 422}
# Early-warning alert tasks of credit lines (creditflow.store.alerts): a table, not workflows,
# so they are listed from the database and are not among the application queues above.
SERVICING_QUEUE = "servicing"
SERVICING_ROLES = ("officer", "senior_officer", "admin")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "decline", "counteroffer", "request_info"]
    comment: str = Field(min_length=1, max_length=5000)
    amount: float | None = Field(default=None, gt=0, le=10_000_000, allow_inf_nan=False)
    term_months: int | None = Field(default=None, ge=1, le=120)
    requested_items: list[str] = Field(default_factory=list, max_length=20)
    reason_codes: list[str] = Field(default_factory=list, max_length=4)

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_only(cls, value: Any) -> Any:
        return encodable(value)


def _update_error(err: WorkflowUpdateFailedError) -> ProblemError:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        code = STATUS_FOR_ERROR.get(cause.type or "", 409)
        return ProblemError(code, {403: "Not allowed", 409: "Conflict", 422: "Invalid decision"}[code],
                            cause.message, reason=cause.type)
    return ProblemError(409, "Update rejected", str(cause or err))


def _attr(sas: Any, key: Any) -> Any:
    try:
        return sas.get(key)
    except Exception:
        return None


class ResolveAlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=5000)

    @field_validator("comment", mode="after")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a comment is required to resolve an alert")
        return encodable(value)


def _servicing_tasks(request: Request, assignee: str | None, stage: str | None) -> dict[str, Any]:
    from creditflow.store import alerts

    if stage not in (None, alerts.STAGE):
        return {"items": []}
    with request.app.state.db.session() as s:
        rows = alerts.list_alerts(s, "open", assignee=assignee)
        return {"items": [alerts.task_item(a) for a in rows]}


@router.get("/tasks")
async def list_tasks(
    request: Request, principal: StaffDep, client: TemporalDep,
    queue: str | None = Query(default=None, max_length=20, pattern=r"^[a-z_]+$"),
    assignee: str | None = Query(default=None, max_length=200),
    stage: Literal["in_review", "alert"] | None = None,
) -> dict[str, Any]:
    if queue == SERVICING_QUEUE:
        if principal.role not in SERVICING_ROLES:
            raise ProblemError(403, "Queue not allowed", f"Role {principal.role} may not see the {queue} queue.")
        return await asyncio.to_thread(_servicing_tasks, request, assignee, stage)
    allowed = QUEUES_FOR_ROLE[principal.role]
    queues = [queue] if queue else list(allowed)
    if queue and queue not in allowed:
        raise ProblemError(403, "Queue not allowed", f"Role {principal.role} may not see the {queue} queue.")
    quoted = ", ".join(f"'{q}'" for q in queues)  # queue names are validated against a fixed set above
    query = (f"WorkflowType = 'CreditApplicationWorkflow' AND ExecutionStatus = 'Running' "
             f"AND CreditStage = 'in_review' AND CreditQueue IN ({quoted})")
    items: list[dict[str, Any]] = []
    async for wf in client.list_workflows(query, limit=500):
        sas = wf.typed_search_attributes
        who = _attr(sas, sa.CREDIT_ASSIGNEE)
        if assignee and who != assignee:
            continue
        app_id = wf.id.removeprefix("application-")
        due: datetime | None = _attr(sas, sa.CREDIT_SLA_DUE_AT)
        items.append({
            "id": app_id, "application_id": app_id, "queue": _attr(sas, sa.CREDIT_QUEUE),
            "product": _attr(sas, sa.CREDIT_PRODUCT), "amount": _attr(sas, sa.CREDIT_AMOUNT),
            "grade": _attr(sas, sa.CREDIT_GRADE), "stage": _attr(sas, sa.CREDIT_STAGE),
            "sla_due_at": due.isoformat() if due else None, "assignee": who, "workflow_id": wf.id,
        })
    items.sort(key=lambda t: t["sla_due_at"] or "")
    return {"items": items}


@router.get("/tasks/{task_id}")
async def task_detail(task_id: str, request: Request, principal: StaffDep, client: TemporalDep) -> dict[str, Any]:
    app = load_visible(request, principal, task_id)
    st = await query_status(client, app.workflow_id)
    if st is None:
        raise ProblemError(404, "Task not found", "The workflow for this application is not reachable.")
    docs, notices = docs_and_notices(request, app.id)
    with request.app.state.db.session() as s:
        from creditflow.store import repo

        analyses = {d.id: d.analysis for d in repo.documents_for(s, app.id)}
        texts = {}
        for d in repo.documents_for(s, app.id):
            if d.text_sha256:
                try:
                    texts[d.id] = request.app.state.blobs.get(d.text_sha256).decode("utf-8", "replace")
                except Exception:
                    texts[d.id] = None
        notes = [{"text": t, "analysis": na.analysis if (na := next(
            (n for n in repo.note_analyses_for(s, app.id) if n.note_index == i), None)) else None}
            for i, t in enumerate(app.notes or [])]
    return {
        "application": {"id": app.id, "product": app.product, "requested_amount": app.requested_amount,
                        "term_months": app.term_months, "currency": app.currency, "purpose": app.purpose,
                        "applicant": app.applicant, "workflow_id": app.workflow_id},
        "status": st.model_dump(mode="json"),
        "documents": [dict(d, analysis=analyses.get(d["document_id"]), text=texts.get(d["document_id"]))
                      for d in docs],
        "notes": notes, "notices": notices,
        "temporal_ui": f"{request.app.state.settings.temporal_ui_url}/namespaces/"
                       f"{request.app.state.settings.temporal_namespace}/workflows/{app.workflow_id}",
    }


async def _update(client: Client, request: Request, principal: Any, task_id: str, method: Any, arg: Any) -> Any:
    app = load_visible(request, principal, task_id)
    from workflows.credit_application import CreditApplicationWorkflow

    handle = client.get_workflow_handle_for(CreditApplicationWorkflow.run, app.workflow_id)
    try:
        result = await handle.execute_update(method, arg)
    except WorkflowUpdateFailedError as err:
        raise _update_error(err) from None
    return result.model_dump(mode="json")


@router.post("/tasks/{task_id}/claim")
async def claim(task_id: str, request: Request, principal: StaffDep, client: TemporalDep) -> dict[str, Any]:
    from workflows.credit_application import CreditApplicationWorkflow

    return await _update(client, request, principal, task_id, CreditApplicationWorkflow.claim,
                         ClaimInput(officer_id=principal.sub, role=principal.role))


@router.post("/tasks/{task_id}/release")
async def release(task_id: str, request: Request, principal: StaffDep, client: TemporalDep) -> dict[str, Any]:
    from workflows.credit_application import CreditApplicationWorkflow

    return await _update(client, request, principal, task_id, CreditApplicationWorkflow.release,
                         ReleaseInput(officer_id=principal.sub, role=principal.role))


@router.post("/tasks/{task_id}/decision")
async def decide(task_id: str, body: DecisionBody, request: Request, principal: StaffDep,
                 client: TemporalDep) -> dict[str, Any]:
    from workflows.credit_application import CreditApplicationWorkflow

    return await _update(client, request, principal, task_id, CreditApplicationWorkflow.decide,
                         DecideInput(officer_id=principal.sub, role=principal.role, **body.model_dump()))


def _resolve_alert(request: Request, principal: Any, alert_id: str, comment: str) -> dict[str, Any]:
    """Close the task once (atomic status change), then append the resolution to the evidence
    log; if the log cannot be written the task is reopened, so no resolution goes unrecorded."""
    from creditflow.ledger.log import EvidenceLog
    from creditflow.ledger.records import EvidenceEntry
    from creditflow.store import alerts

    db = request.app.state.db
    now = datetime.now(timezone.utc)
    with db.session() as s:
        alert = alerts.get_alert(s, alert_id)
        if alert is None:
            raise ProblemError(404, "Alert not found", f"No servicing alert {alert_id}.")
        if not alerts.mark_resolved(s, alert_id, principal.sub, principal.role, comment, now):
            raise ProblemError(409, "Alert already resolved", f"Alert {alert_id} is not open.",
                               reason="ALREADY_RESOLVED")
    entry = EvidenceEntry(
        idempotency_key=f"servicing-alert:{alert.id}:resolved", application_id=alert.application_id,
        stage="line_alert_resolved", actor=principal.sub, recorded_at=now,
        inputs={"comment": hashlib.sha256(comment.encode()).hexdigest()},
        policy_version=alert.policy_version, outcome="resolved",
        reasons=[{"code": alert.reason_code}] if alert.reason_code else [],
        details={"alert_id": alert.id, "queue": alert.queue, "action": alert.action, "rule_id": alert.rule_id,
                 "role": principal.role, "workflow_id": alert.workflow_id, "raised_on": alert.raised_on.isoformat(),
                 "action_evidence_seq": alert.evidence_seq, "sla_policy_version": alert.sla_policy_version},
    )
    try:
        record = EvidenceLog(db, request.app.state.settings).append(entry)
    except Exception:
        with db.session() as s:
            alerts.reopen(s, alert_id)
        raise
    with db.session() as s:
        row = alerts.get_alert(s, alert_id)
        assert row is not None
        row.resolution_evidence_seq = record.seq
        s.flush()
        return alerts.task_item(row)


@router.post("/alerts/{alert_id}/resolve")
async def resolve_alert(alert_id: str, body: ResolveAlertBody, request: Request,
                        principal: StaffDep) -> dict[str, Any]:
    """Close a servicing alert task with a mandatory comment (recorded as its SHA-256 in the
    evidence log, in full on the task). 404 unknown, 409 already resolved."""
    if principal.role not in SERVICING_ROLES:
        raise ProblemError(403, "Queue not allowed", f"Role {principal.role} may not resolve servicing alerts.")
    return await asyncio.to_thread(_resolve_alert, request, principal, alert_id, body.comment.strip())
