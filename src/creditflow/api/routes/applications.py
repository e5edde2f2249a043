"""Applicant endpoints: create (idempotent), upload documents, submit, read status, answer offers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, UploadFile, status
from sqlalchemy.exc import OperationalError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from creditflow import tracing
from creditflow.api.deps import PrincipalDep, require_roles
from creditflow.api.problems import ProblemError
from creditflow.api.temporal_dep import TemporalDep, is_not_found
from creditflow.nlp_client import NlpClient, NlpUnavailable
from creditflow.schemas import ApplicationCreate, missing_documents
from creditflow.security.tokens import Principal
from creditflow.store import repo
from creditflow.store.models import Application
from workflows.credit_application_types import (
    ApplicationInput,
    ApplicationStatus,
    DocumentAdded,
    OfferResponse,
    SubmitInput,
)

router = APIRouter(prefix="/v1/applications", tags=["applications"])
ALLOWED_MEDIA = {"text/plain", "application/pdf", "image/png", "image/jpeg"}
FINAL = {"approved", "declined", "withdrawn_incomplete"}


def _db_error() -> ProblemError:
    return ProblemError(503, "Database unavailable", "The application store cannot be reached; nothing was "
                        "saved. Retry with the same Idempotency-Key.")


def load_visible(request: Request, principal: Principal, application_id: str) -> Application:
    """The application if the caller may see it; 404 otherwise (never 403, to avoid probing)."""
    try:
        with request.app.state.db.session() as s:
            app = repo.get_application(s, application_id)
    except OperationalError:
        raise _db_error() from None
    return _visible(app, principal, application_id)


def visible_columns(request: Request, principal: Principal, application_id: str, *columns: str) -> Any:
    """`load_visible` for a route that needs a few columns, not the whole row (applicant, notes)."""
    try:
        with request.app.state.db.session() as s:
            row = repo.application_columns(s, application_id, "owner_sub", *columns)
    except OperationalError:
        raise _db_error() from None
    return _visible(row, principal, application_id)


def _visible(app: Any, principal: Principal, application_id: str) -> Any:
    if app is None or (principal.role == "applicant" and app.owner_sub != principal.sub):
        raise ProblemError(404, "Application not found", f"No application {application_id!r} for you.")
    return app


async def start_workflow(client: Client, request: Request, app: Application) -> None:
    settings = request.app.state.settings
    from workflows.credit_application import CreditApplicationWorkflow
    from workflows.search_attributes import application_at_start

    try:
        await client.start_workflow(
            CreditApplicationWorkflow.run,
            ApplicationInput(application_id=app.id, product=app.product,  # type: ignore[arg-type]
                             requested_amount=app.requested_amount, term_months=app.term_months,
                             currency=app.currency, note_count=len(app.notes or []),
                             info_request_days=settings.info_request_days,
                             review_sla_hours=settings.review_sla_hours),
            id=app.workflow_id, task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=application_at_start(app.product, app.requested_amount),
        )
    except WorkflowAlreadyStartedError:
        pass  # an idempotent retry: the workflow already runs


def view(app: Application, st: ApplicationStatus | None, documents: list[dict[str, Any]],
         notices: list[dict[str, Any]]) -> dict[str, Any]:
    if st is None:  # workflow unreachable: fall back to what was persisted
        present = {d["doc_type"] for d in documents if d.get("doc_type")}
        return {
            "id": app.id, "status": app.status, "stage": app.stage, "product": app.product,
            "requested_amount": app.requested_amount, "term_months": app.term_months, "currency": app.currency,
            "missing_documents": missing_documents(app.product, present) if app.stage not in FINAL else [],
            "info_requested": [], "decision": app.decision, "risk_signals": [], "documents": documents,
            "notices": notices, "workflow_id": app.workflow_id, "live": False,
        }
    present = {r.facts.doc_type for r in st.analyzed_documents if r.facts.doc_type}
    present |= {d["doc_type"] for d in documents if d.get("doc_type")}
    missing = st.missing_documents if st.recommendation else missing_documents(app.product, present)
    if st.stage in FINAL:
        missing = []
    return {
        "id": app.id, "status": st.status, "stage": st.stage, "product": app.product,
        "requested_amount": app.requested_amount, "term_months": app.term_months, "currency": app.currency,
        "submitted": st.submitted, "missing_documents": missing, "info_requested": st.info_requested,
        "info_deadline": st.info_deadline.isoformat() if st.info_deadline else None,
        "problems": st.problems,
        "decision": st.decision.model_dump(mode="json") if st.decision else None,
        "risk_signals": [s.model_dump(mode="json") for s in st.risk_signals],
        "documents": documents, "notices": notices, "workflow_id": app.workflow_id,
        "credit_line_workflow_id": st.credit_line_workflow_id, "live": True,
    }


async def query_status(client: Client, workflow_id: str) -> ApplicationStatus | None:
    from workflows.credit_application import CreditApplicationWorkflow

    try:
        handle = client.get_workflow_handle_for(CreditApplicationWorkflow.run, workflow_id)
        return await asyncio.wait_for(handle.query(CreditApplicationWorkflow.status), timeout=10)
    except Exception as err:
        if is_not_found(err):
            return None
        return None


def docs_and_notices(request: Request, application_id: str) -> tuple[list[dict], list[dict]]:
    with request.app.state.db.session() as s:
        docs = [{"document_id": d.id, "sha256": d.sha256, "doc_type": d.doc_type, "media_type": d.media_type,
                 "size": d.size, "status": d.status} for d in repo.documents_for(s, application_id)]
        notices = [{"kind": n.kind, "body": n.body, "at": n.created_at.isoformat()}
                   for n in repo.notices_for(s, application_id)]
    return docs, notices


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Depends(require_roles("applicant"))])
async def create_application(
    body: ApplicationCreate, request: Request, principal: PrincipalDep, client: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    if idempotency_key is not None and not idempotency_key.strip():
        raise ProblemError(422, "Empty Idempotency-Key", "Send a non-empty Idempotency-Key or leave the header out.")
    try:
        with request.app.state.db.session() as s:
            app, _created = repo.create_application(s, principal.sub, body, idempotency_key)
    except repo.IdempotencyConflict:
        raise ProblemError(422, "Idempotency-Key reused", "This Idempotency-Key was used with a different body; "
                           "use a new key for a new application.") from None
    except OperationalError:
        raise _db_error() from None
    if _created and app.notes:
        await _pre_analyze_notes(request, app.id, list(app.notes))
    await start_workflow(client, request, app)
    return {"id": app.id, "status": "awaiting_documents", "stage": "awaiting_documents",
            "product": app.product, "workflow_id": app.workflow_id,
            "missing_documents": missing_documents(app.product, set())}


@router.get("", dependencies=[Depends(require_roles("applicant", "officer", "senior_officer", "admin"))])
async def list_applications(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    from sqlalchemy import select

    with request.app.state.db.session() as s:
        q = select(Application).order_by(Application.created_at.desc()).limit(200)
        if principal.role == "applicant":
            q = q.where(Application.owner_sub == principal.sub)
        rows = list(s.scalars(q))
    return {"items": [{"id": a.id, "product": a.product, "stage": a.stage, "status": a.status,
                       "requested_amount": a.requested_amount, "currency": a.currency,
                       "created_at": a.created_at.isoformat()} for a in rows]}


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, total = [], 0
    while chunk := await file.read(1024 * 1024):
        total += len(chunk)
        if total > limit:
            raise ProblemError(413, "Document too large", f"Documents may be at most {limit // (1024 * 1024)} MB.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _pre_analyze(request: Request, data: bytes, media_type: str) -> dict[str, Any] | None:
    """Best-effort classification at upload so the applicant sees at once what we think it is."""
    if media_type != "text/plain":
        return None
    return await _analysis_or_none(request, data.decode("utf-8", errors="replace"), "document")


async def _analysis_or_none(request: Request, text: str, kind: str) -> dict[str, Any] | None:
    """The NLP service's analysis of `text`, or None when it cannot give one now (best effort at intake:
    the worker analyses whatever is missing)."""
    try:
        resp = await nlp_client(request.app).analyze(request.app.state.settings.nlp_url, text, kind)
    except NlpUnavailable:
        return None
    return resp.body if resp.ok and isinstance(resp.body, dict) else None


def _analysis_digest(analysis: dict[str, Any]) -> str:
    """SHA-256 of an analysis as stored: the worker's hash of the same analysis (canonical JSON) matches,
    so it knows the stored analysis is the one it would use and does not rewrite it."""
    return hashlib.sha256(json.dumps(analysis, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def _pre_analyze_notes(request: Request, application_id: str, notes: list[str]) -> None:
    """Best-effort analysis of the notes when they arrive, as documents are analysed at upload: their risk
    signals exist before `submit`, and the decision after it makes no NLP call for them (the worker reuses
    what is stored, and analyses whatever is missing). A note the service cannot analyse now is left to
    the worker."""
    analyses = await asyncio.gather(*(_analysis_or_none(request, n, "note") for n in notes))
    rows = [(i, a) for i, a in enumerate(analyses) if a is not None]
    if not rows:
        return
    try:
        with request.app.state.db.session() as s:
            for i, a in rows:
                repo.save_note_analysis(s, application_id, i, a, _analysis_digest(a))
    except OperationalError:
        pass  # the application is stored; the worker analyses the notes instead


def nlp_client(app: Any) -> NlpClient:
    """One pooled client per app for calls to the NLP service. Why: a new client per upload built an SSL
    context and a connection each time (~10 ms of CPU, the largest single cost of an upload in the
    workflow benchmark's profile). Closed by the app's lifespan (`close_nlp_client`)."""
    nlp = getattr(app.state, "nlp_client", None)
    if nlp is None:
        provider = tracing.tracer_provider(app.state.settings, tracing.API_SERVICE)
        nlp = app.state.nlp_client = NlpClient(timeout_s=5.0, tracer_provider=provider)
    return nlp


async def close_nlp_client(app: Any) -> None:
    nlp = getattr(app.state, "nlp_client", None)
    if nlp is not None:
        await nlp.aclose()


@router.post("/{application_id}/documents", status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(require_roles("applicant"))])
async def upload_document(application_id: str, file: UploadFile, request: Request, principal: PrincipalDep,
                          client: TemporalDep) -> dict[str, Any]:
    from creditflow.nlp.extract import sniff_media_type

    app = visible_columns(request, principal, application_id, "id", "stage", "workflow_id")
    if app.stage in FINAL:
        raise ProblemError(409, "Application closed", f"The application is {app.stage}; start a new one.")
    declared = (file.content_type or "").split(";")[0].strip().lower()
    if declared not in ALLOWED_MEDIA:
        raise ProblemError(415, "Unsupported document type",
                           "Upload text/plain, application/pdf, image/png or image/jpeg.")
    data = await _read_limited(file, request.app.state.settings.max_upload_bytes)
    if not data:
        raise ProblemError(422, "Empty document", "The uploaded file is empty.")
    sniffed = sniff_media_type(data)
    if sniffed != declared:
        raise ProblemError(415, "Content does not match its type",
                           f"The file was declared {declared} but its content looks like {sniffed or 'unknown'}.")
    sha = await asyncio.to_thread(request.app.state.blobs.put, data)
    analysis = await _pre_analyze(request, data, declared)
    digest = None if analysis is None else _analysis_digest(analysis)
    # Before `submit` the document travels with the submit signal (one workflow task instead of one per
    # upload). The document row is committed before we look at submitted_at (a new transaction after the
    # commit); submit sets submitted_at before it reads the documents. So an upload that sees it unset is
    # read by the submit, and one that sees it set signals itself: never lost (at worst told twice, added
    # once).
    with request.app.state.db.session() as s:
        doc_id = repo.add_document(s, app.id, sha, declared, len(data), file.filename, analysis, digest)
        s.commit()
        submitted = repo.application_columns(s, app.id, "submitted_at").submitted_at is not None
    doc_type = analysis.get("doc_type") if analysis is not None else None
    if submitted:
        from workflows.credit_application import CreditApplicationWorkflow

        handle = client.get_workflow_handle_for(CreditApplicationWorkflow.run, app.workflow_id)
        await handle.signal(CreditApplicationWorkflow.document_added, DocumentAdded(document_id=doc_id, sha256=sha))
    return {"document_id": doc_id, "sha256": sha, "doc_type": doc_type}


@router.post("/{application_id}/submit", status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Depends(require_roles("applicant"))])
async def submit(application_id: str, request: Request, principal: PrincipalDep, client: TemporalDep) -> dict:
    from workflows.credit_application import CreditApplicationWorkflow

    db = request.app.state.db
    try:
        with db.session() as s:  # first mark it submitted (see upload_document) ...
            app = repo.application_columns(s, application_id, "owner_sub", "stage", "workflow_id")
            if app is None or (principal.role == "applicant" and app.owner_sub != principal.sub):
                raise ProblemError(404, "Application not found", f"No application {application_id!r} for you.")
            if app.stage in FINAL:
                raise ProblemError(409, "Application closed", f"The application is already {app.stage}.")
            repo.mark_submitted(s, application_id, datetime.now(timezone.utc))
        # ... then, in a transaction of its own (committed after the mark), read the documents uploaded so far
        with db.session() as s:
            documents = [DocumentAdded(document_id=d.id, sha256=d.sha256) for d in repo.document_claims(s, application_id)]
    except OperationalError:
        raise _db_error() from None
    handle = client.get_workflow_handle_for(CreditApplicationWorkflow.run, app.workflow_id)
    await handle.signal(CreditApplicationWorkflow.submit, SubmitInput(by=principal.sub, documents=documents))
    return {"id": application_id, "status": "submitted"}


@router.get("/{application_id}", dependencies=[Depends(require_roles("applicant", "officer", "senior_officer", "admin"))])
async def get_application(application_id: str, request: Request, principal: PrincipalDep,
                          client: TemporalDep) -> dict[str, Any]:
    app = load_visible(request, principal, application_id)
    st = await query_status(client, app.workflow_id)
    docs, notices = docs_and_notices(request, app.id)
    return view(app, st, docs, notices)


async def _offer(application_id: str, accept: bool, request: Request, principal: Principal,
                 client: Client) -> dict[str, Any]:
    app = load_visible(request, principal, application_id)
    from workflows.credit_application import CreditApplicationWorkflow

    handle = client.get_workflow_handle_for(CreditApplicationWorkflow.run, app.workflow_id)
    method = CreditApplicationWorkflow.accept_offer if accept else CreditApplicationWorkflow.reject_offer
    try:
        await handle.execute_update(method, OfferResponse(accept=accept, by=principal.sub))
    except WorkflowUpdateFailedError as err:
        raise ProblemError(409, "No open offer", getattr(err.cause, "message", str(err))) from None
    return {"id": app.id, "status": "offer_accepted" if accept else "offer_rejected"}


@router.post("/{application_id}/offer/accept", dependencies=[Depends(require_roles("applicant"))])
async def accept_offer(application_id: str, request: Request, principal: PrincipalDep, client: TemporalDep) -> dict:
    return await _offer(application_id, True, request, principal, client)


@router.post("/{application_id}/offer/reject", dependencies=[Depends(require_roles("applicant"))])
async def reject_offer(application_id: str, request: Request, principal: PrincipalDep, client: TemporalDep) -> dict:
    return await _offer(application_id, False, request, principal, client)


@router.get("/{application_id}/evidence",
            dependencies=[Depends(require_roles("applicant", "officer", "senior_officer", "admin"))])
async def evidence(application_id: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    load_visible(request, principal, application_id)
    from creditflow.ledger.log import EvidenceLog

    log = EvidenceLog(request.app.state.db, request.app.state.settings)
    return await asyncio.to_thread(log.evidence_bundle, application_id)
