"""Servicing endpoints of a credit line (`CreditLineWorkflow`, id `credit-line-{application_id}`).

Who may do what: the servicing system (a token with role `admin`) posts draws, repayments,
transactions, notes and bureau reports; officers and senior officers may read lines and list
them; an applicant may read only the line of their own application (owner check through the
applications table; anything else is 404, never 403, so ids cannot be probed).

Why these shapes: a draw is a Workflow Update because the caller needs the answer (accepted
with its plan, or refused with the validator's reason: frozen, over the available limit, a
term not offered); a refused draw never enters the history. Repayments, transactions, notes
and bureau reports are signals (fire and forget, 202): each carries its own id and the
workflow ignores a duplicate, so the servicing system may retry freely. Bodies are strict
(unknown fields -> 422) and converted to the workflow's own message types.

The list is a visibility query on the `CreditBucket` / `CreditWatchList` search attributes,
restricted to this deployment's task queue; its items carry ids, bucket and flags only, no PII.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from creditflow.api.deps import PrincipalDep, require_roles
from creditflow.api.problems import ProblemError
from creditflow.api.routes.applications import load_visible
from creditflow.api.temporal_dep import TemporalDep, is_not_found
from creditflow.security.tokens import Principal
from workflows import search_attributes as sa
from workflows.credit_line_types import (
    BUCKETS,
    BureauUpdate,
    CreditLineState,
    Draw,
    DrawResult,
    NoteAdded,
    RepaymentPosted,
    TransactionObserved,
)

router = APIRouter(prefix="/v1/lines", tags=["credit lines"])

SERVICER_ROLES = ("admin",)
READER_ROLES = ("officer", "senior_officer", "admin")
# Validator reasons of the `draw` update: a state conflict is 409, a bad request 422.
DRAW_ERROR_STATUS = {
    "LINE_FROZEN": 409, "INSUFFICIENT_AVAILABLE": 409, "DUPLICATE_DRAW": 409,
    "BAD_TERM": 422, "BAD_DRAW": 422,
}
QUERY_TIMEOUT_S = 10.0
LIST_LIMIT = 500

ServicerDep = Depends(require_roles(*SERVICER_ROLES))
ReaderDep = Depends(require_roles(*READER_ROLES))


def line_workflow_id(application_id: str) -> str:
    return f"credit-line-{application_id}"


# ---------------------------------------------------------------- request bodies (strict)

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DrawBody(_Body):
    draw_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    amount: float = Field(gt=0, le=10_000_000, allow_inf_nan=False)
    term_months: int = Field(ge=1, le=120)
    merchant: str | None = Field(default=None, max_length=200)


class RepaymentBody(_Body):
    payment_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    amount: float = Field(gt=0, le=10_000_000, allow_inf_nan=False)
    posted_on: date | None = Field(default=None, description="defaults to today (UTC)")


class TransactionBody(_Body):
    txn_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    merchant: str = Field(min_length=1, max_length=200)
    category: str = Field(default="", max_length=100)
    amount: float = Field(ge=-10_000_000, le=10_000_000, allow_inf_nan=False)
    observed_on: date | None = Field(default=None, description="defaults to today (UTC)")


class NoteBody(_Body):
    note_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    text: str = Field(min_length=1, max_length=20_000)


class BureauBody(_Body):
    update_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    reported_on: date | None = Field(default=None, description="defaults to today (UTC)")
    external_delinquencies: int | None = Field(default=None, ge=0, le=1000)
    new_inquiries: int | None = Field(default=None, ge=0, le=1000)
    anchor_orders_amount: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    receivables_overdue_days: int | None = Field(default=None, ge=0, le=3650)


class Accepted(BaseModel):
    accepted: bool = True
    application_id: str
    kind: str
    id: str


def _today() -> date:
    return datetime.now(timezone.utc).date()


# ---------------------------------------------------------------- helpers

def _line_handle(client: Client, application_id: str) -> WorkflowHandle:
    from workflows.credit_line import CreditLineWorkflow

    return client.get_workflow_handle_for(CreditLineWorkflow.run, line_workflow_id(application_id))


def _no_line(application_id: str) -> ProblemError:
    return ProblemError(404, "Credit line not found", f"No credit line for application {application_id!r}.")


async def query_line(client: Client, application_id: str) -> CreditLineState | None:
    """The line's `status` query, or None when the workflow does not exist."""
    from workflows.credit_line import CreditLineWorkflow

    try:
        return await asyncio.wait_for(_line_handle(client, application_id).query(CreditLineWorkflow.status),
                                      timeout=QUERY_TIMEOUT_S)
    except RPCError as err:
        if is_not_found(err):
            return None
        raise ProblemError(503, "Credit line unavailable", "The line's workflow did not answer; retry.") from None
    except asyncio.TimeoutError:
        raise ProblemError(503, "Credit line unavailable", "The line's workflow did not answer in time; "
                           "is a worker running?") from None


def applicant_view(st: CreditLineState) -> dict[str, Any]:
    """What a borrower sees of their own line: amounts, schedule and payments; not the
    internal risk view (watch list, rules, alerts, scores)."""
    return {
        "application_id": st.application_id, "currency": st.currency, "opened_on": st.opened_on.isoformat(),
        "credit_limit": st.credit_limit, "available": st.available,
        "principal_outstanding": st.principal_outstanding, "balance_outstanding": st.balance_outstanding,
        "amount_overdue": st.amount_overdue, "days_past_due": st.days_past_due,
        "next_due_on": st.next_due_on.isoformat() if st.next_due_on else None,
        "next_due_amount": st.next_due_amount, "frozen": st.frozen, "credit_balance": st.credit_balance,
        "plans_offered": [p.model_dump(mode="json") for p in st.plans_offered],
        "draws": [d.model_dump(mode="json") for d in st.draws],
        "payments": [p.model_dump(mode="json") for p in st.payments],
        "pending_offer": st.pending_offer.model_dump(mode="json") if st.pending_offer else None,
    }


async def _signal(client: Client, request: Request, principal: Principal, application_id: str,
                  signal_name: str, arg: BaseModel, kind: str, message_id: str) -> Accepted:
    load_visible(request, principal, application_id)
    try:
        await _line_handle(client, application_id).signal(signal_name, arg)
    except RPCError as err:
        if is_not_found(err):
            raise _no_line(application_id) from None
        raise ProblemError(503, "Credit line unavailable", "The signal was not delivered; retry with the "
                           "same id.") from None
    return Accepted(application_id=application_id, kind=kind, id=message_id)


def _draw_error(err: WorkflowUpdateFailedError) -> ProblemError:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        reason = cause.type or "DRAW_REFUSED"
        code = DRAW_ERROR_STATUS.get(reason, 409)
        extra: dict[str, Any] = {"reason": reason}
        if reason == "INSUFFICIENT_AVAILABLE" and cause.details:
            extra["available"] = cause.details[0]
        elif reason == "BAD_TERM" and cause.details:
            extra["terms_offered"] = cause.details[0]
        elif reason == "LINE_FROZEN" and cause.details:
            extra["frozen_reason"] = cause.details[0]
        return ProblemError(code, "Draw refused", cause.message, **extra)
    return ProblemError(409, "Draw refused", str(cause or err), reason="DRAW_REFUSED")


# ---------------------------------------------------------------- routes

@router.get("", dependencies=[ReaderDep])
async def list_lines(
    request: Request, client: TemporalDep,
    bucket: Literal["current", "1-29", "30-59", "60-89", "90+"] | None = None,
    watch_list: bool | None = None,
) -> dict[str, Any]:
    """Running lines of this deployment, filtered by bucket and/or watch-list flag."""
    settings = request.app.state.settings
    # Every interpolated value is validated: the bucket against a fixed set, the flag as a
    # bool, the task queue from configuration (quotes are refused outright).
    if "'" in settings.task_queue:
        raise ProblemError(500, "Bad configuration", "The task queue name contains a quote.")
    clauses = ["WorkflowType = 'CreditLineWorkflow'", "ExecutionStatus = 'Running'",
               f"TaskQueue = '{settings.task_queue}'"]
    if bucket is not None:
        assert bucket in BUCKETS
        clauses.append(f"CreditBucket = '{bucket}'")
    if watch_list is not None:
        clauses.append(f"CreditWatchList = {'true' if watch_list else 'false'}")
    items: list[dict[str, Any]] = []
    truncated = False
    async for wf in client.list_workflows(" AND ".join(clauses), limit=LIST_LIMIT + 1):
        if len(items) >= LIST_LIMIT:
            truncated = True
            break
        sas = wf.typed_search_attributes
        items.append({
            "application_id": wf.id.removeprefix("credit-line-"), "workflow_id": wf.id,
            "bucket": sas.get(sa.CREDIT_BUCKET), "watch_list": sas.get(sa.CREDIT_WATCH_LIST),
            "started_at": wf.start_time.isoformat() if wf.start_time else None,
        })
    items.sort(key=lambda i: i["application_id"])
    return {"items": items, "truncated": truncated}


@router.get("/{application_id}")
async def get_line(application_id: str, request: Request, principal: PrincipalDep,
                   client: TemporalDep) -> dict[str, Any]:
    """The line's state (the workflow's `status` query); an applicant sees their own line only."""
    load_visible(request, principal, application_id)
    st = await query_line(client, application_id)
    if st is None:
        raise _no_line(application_id)
    if principal.role == "applicant":
        return applicant_view(st)
    return {"workflow_id": line_workflow_id(application_id), **st.model_dump(mode="json")}


@router.post("/{application_id}/draws", status_code=status.HTTP_201_CREATED, dependencies=[ServicerDep])
async def draw(application_id: str, body: DrawBody, request: Request, response: Response,
               principal: PrincipalDep, client: TemporalDep) -> DrawResult:
    """A purchase on installments (Update `draw`): 201 with the plan, 200 for a repeated
    `draw_id` (the first answer again), 409/422 problem with `reason` when refused."""
    from workflows.credit_line import CreditLineWorkflow

    load_visible(request, principal, application_id)
    try:
        result = await _line_handle(client, application_id).execute_update(
            CreditLineWorkflow.draw, Draw(**body.model_dump()))
    except WorkflowUpdateFailedError as err:
        raise _draw_error(err) from None
    except RPCError as err:
        if is_not_found(err):
            raise _no_line(application_id) from None
        raise ProblemError(503, "Credit line unavailable", "The draw was not processed; retry with the "
                           "same draw_id.") from None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/{application_id}/repayments", status_code=status.HTTP_202_ACCEPTED, dependencies=[ServicerDep])
async def repayment(application_id: str, body: RepaymentBody, request: Request, principal: PrincipalDep,
                    client: TemporalDep) -> Accepted:
    msg = RepaymentPosted(payment_id=body.payment_id, amount=body.amount, posted_on=body.posted_on or _today())
    return await _signal(client, request, principal, application_id, "repayment_posted", msg, "repayment",
                         body.payment_id)


@router.post("/{application_id}/transactions", status_code=status.HTTP_202_ACCEPTED, dependencies=[ServicerDep])
async def transaction(application_id: str, body: TransactionBody, request: Request, principal: PrincipalDep,
                      client: TemporalDep) -> Accepted:
    msg = TransactionObserved(txn_id=body.txn_id, merchant=body.merchant, category=body.category,
                              amount=body.amount, observed_on=body.observed_on or _today())
    return await _signal(client, request, principal, application_id, "transaction_observed", msg, "transaction",
                         body.txn_id)


@router.post("/{application_id}/notes", status_code=status.HTTP_202_ACCEPTED, dependencies=[ServicerDep])
async def note(application_id: str, body: NoteBody, request: Request, principal: PrincipalDep,
               client: TemporalDep) -> Accepted:
    msg = NoteAdded(note_id=body.note_id, text=body.text)
    return await _signal(client, request, principal, application_id, "note_added", msg, "note", body.note_id)


@router.post("/{application_id}/bureau", status_code=status.HTTP_202_ACCEPTED, dependencies=[ServicerDep])
async def bureau(application_id: str, body: BureauBody, request: Request, principal: PrincipalDep,
                 client: TemporalDep) -> Accepted:
    msg = BureauUpdate(**{**body.model_dump(), "reported_on": body.reported_on or _today()})
    return await _signal(client, request, principal, application_id, "bureau_update", msg, "bureau",
                         body.update_id)
