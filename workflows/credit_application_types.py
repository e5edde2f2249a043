"""Inputs, messages and state of CreditApplicationWorkflow: one type per message.

These travel through Temporal payloads (encrypted by the codec). They carry ids, hashes,
amounts and codes; document bytes and applicant PII stay in the database (claim check).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from creditflow.decision.contract import Decision, DocumentFacts
from creditflow.nlp.contract import RiskSignal

Stage = Literal[
    "awaiting_documents", "analyzing", "info_requested", "scoring", "policy", "in_review",
    "counteroffered", "approved", "declined", "withdrawn_incomplete", "needs_attention",
]
FINAL_STAGES = ("approved", "declined", "withdrawn_incomplete")
ReviewAction = Literal["approve", "decline", "counteroffer", "request_info"]


class ApplicationInput(BaseModel):
    application_id: str
    product: Literal["consumer_installment", "dealer_working_capital"]
    requested_amount: float
    term_months: int
    currency: str = "USD"
    note_count: int = 0
    info_request_days: int = 30
    review_sla_hours: int = 24


class DocumentAdded(BaseModel):
    document_id: str
    sha256: str


class SubmitInput(BaseModel):
    by: str = "applicant"
    # the documents uploaded before submitting (one signal instead of one per upload; later uploads,
    # e.g. answering an information request, still arrive as `document_added`)
    documents: list[DocumentAdded] = Field(default_factory=list)


class ClaimInput(BaseModel):
    officer_id: str
    role: str


class ReleaseInput(BaseModel):
    officer_id: str
    role: str


class DecideInput(BaseModel):
    officer_id: str
    role: str
    action: ReviewAction
    comment: str
    amount: float | None = None
    term_months: int | None = None
    requested_items: list[str] = Field(default_factory=list)  # for request_info
    reason_codes: list[str] = Field(default_factory=list)


class OfferResponse(BaseModel):
    accept: bool
    by: str = "applicant"


class OfficerDecision(BaseModel):
    """Immutable record of one officer's action and what they saw when they took it."""

    officer_id: str
    role: str
    action: ReviewAction
    comment: str
    amount: float | None = None
    term_months: int | None = None
    at: datetime
    saw_score: float | None = None
    saw_grade: str | None = None
    saw_policy_version: str | None = None
    saw_signal_codes: list[str] = Field(default_factory=list)
    reason_codes: list[str] = Field(default_factory=list)
    recommended: str | None = None  # what automation would have done without the referral
    override: bool = False  # the officer went against `recommended` (needs a reason code)


class ReviewTask(BaseModel):
    queue: str
    assignee: str | None = None
    sla_due_at: datetime
    overdue: bool = False
    escalations: int = 0
    required_approvals: int = 1
    approvals: list[OfficerDecision] = Field(default_factory=list)
    actions: list[OfficerDecision] = Field(default_factory=list)
    opened_at: datetime


class DocumentResult(BaseModel):
    """What document analysis returns to the workflow: facts for the decision + signals."""

    facts: DocumentFacts
    status: Literal["analyzed", "unreadable"] = "analyzed"
    problem: str | None = None
    signals: list[RiskSignal] = Field(default_factory=list)
    protected_mentions: int = 0

    @classmethod
    def unreadable(cls, document_id: str, sha256: str, problem: str) -> "DocumentResult":
        """A document that can never be read: no facts, and the reason the applicant is told."""
        return cls(facts=DocumentFacts(document_id=document_id, sha256=sha256, doc_type=None),
                   status="unreadable", problem=problem)


class NotesResult(BaseModel):
    signals: list[RiskSignal] = Field(default_factory=list)
    analysis_sha256s: list[str] = Field(default_factory=list)
    protected_mentions: int = 0


class AnalyzeDocumentInput(BaseModel):
    application_id: str
    document_id: str
    sha256: str


class AnalyzeApplicationInput(BaseModel):
    """Notes (when `notes`) and the listed documents, analysed in one activity."""

    application_id: str
    documents: list[AnalyzeDocumentInput] = Field(default_factory=list)
    notes: bool = False


class ApplicationAnalysis(BaseModel):
    documents: list[DocumentResult] = Field(default_factory=list)
    notes: NotesResult | None = None


class DecideActivityInput(BaseModel):
    application_id: str
    documents: list[DocumentFacts]
    signals: list[RiskSignal]
    as_of: date
    amount: float | None = None  # counteroffer / officer-adjusted amount
    term_months: int | None = None


class EvidenceInput(BaseModel):
    """One evidence record; the activity derives the idempotency key from the workflow id + step."""

    application_id: str
    step: str  # unique per workflow run, attempt-independent (e.g. "auto-decision-1")
    stage: str
    actor: str
    at: datetime
    inputs: dict[str, str] = Field(default_factory=dict)  # name -> sha256
    model_version: str | None = None
    policy_version: str | None = None
    outcome: str | None = None
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class OutcomeInput(BaseModel):
    """Persist what the applicant and the API should see (stage, final decision, notices)."""

    application_id: str
    step: str
    stage: str
    status: str
    decision: dict[str, Any] | None = None
    notice_kind: str | None = None
    notice: dict[str, Any] | None = None  # None with a notice_kind: the notice is `decision`
    officer_decision: OfficerDecision | None = None


class StepInput(BaseModel):
    """A decision step's evidence record and what it changes, written in one transaction (`record_step`)."""

    evidence: EvidenceInput
    outcome: OutcomeInput


class FinalDecisionView(BaseModel):
    outcome: Literal["approve", "decline", "refer", "counteroffer"]
    grade: str | None = None
    score: float | None = None
    pd: float | None = None
    credit_limit: float | None = None
    currency: str = "USD"
    plans: list[dict[str, Any]] = Field(default_factory=list)
    reasons: list[dict[str, str]] = Field(default_factory=list)
    decided_by: str | list[str] = "auto"
    policy_version: str | None = None
    model_version: str | None = None
    counteroffer_amount: float | None = None
    counteroffer_term_months: int | None = None


class ApplicationStatus(BaseModel):
    application_id: str
    stage: Stage
    status: str
    submitted: bool = False
    documents: list[DocumentAdded] = Field(default_factory=list)
    analyzed_documents: list[DocumentResult] = Field(default_factory=list)
    missing_documents: list[str] = Field(default_factory=list)
    info_requested: list[str] = Field(default_factory=list)
    info_deadline: datetime | None = None
    recommendation: Decision | None = None
    decision: FinalDecisionView | None = None
    risk_signals: list[RiskSignal] = Field(default_factory=list)
    review: ReviewTask | None = None
    protected_mentions: int = 0
    credit_line_workflow_id: str | None = None
    problems: list[str] = Field(default_factory=list)
