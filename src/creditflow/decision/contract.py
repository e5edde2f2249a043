"""What the decision engine takes and gives: the boundary between orchestration and credit policy.

The workflow collects facts (application, documents' extracted fields, NLP signals) and hands
them over in one `DecisionInput`; the engine answers with one `Decision` that is complete
enough to explain itself (reasons, rules fired, score breakdown) and to be re-run later from
its recorded inputs (`policy simulate`). Nothing here knows of Temporal or HTTP.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from creditflow.nlp.contract import RiskSignal

Outcome = Literal["approve", "decline", "refer", "counteroffer"]
Queue = Literal["officer", "senior", "committee"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentFacts(_Model):
    """One analysed document: its claim check plus what NLP extracted (values only)."""

    document_id: str
    sha256: str
    doc_type: str | None
    fields: dict[str, Any] = Field(default_factory=dict)  # field name -> normalised value
    currencies: dict[str, str] = Field(default_factory=dict)  # money field -> ISO currency
    analysis_sha256: str | None = None


class DecisionInput(_Model):
    application_id: str
    product: Literal["consumer_installment", "dealer_working_capital"]
    requested_amount: float
    term_months: int
    purpose: str
    currency: str = "USD"
    applicant: dict[str, Any]  # ConsumerApplicant / DealerApplicant as a dict
    documents: list[DocumentFacts] = Field(default_factory=list)
    signals: list[RiskSignal] = Field(default_factory=list)  # all of them; the engine filters
    as_of: date  # "today" for the decision, fixed by the caller so re-runs are reproducible


class Reason(_Model):
    code: str
    text: str


class Plan(_Model):
    term_months: int
    apr: float  # percent, e.g. 18.5
    monthly_payment: float
    total_interest: float
    total_cost: float


class ScoreItem(_Model):
    feature: str
    value: Any
    bin: str
    points: float


class RuleHit(_Model):
    rule_id: str
    effect: Literal["decline", "refer", "info"]
    reason_code: str
    severity: str | None = None


class Authority(_Model):
    """Delegated authority for this product, copied into the workflow so validators can run
    deterministically without reading files."""

    auto_max: float
    role_max: dict[str, float]  # role -> max amount it may approve alone ("officer": 20000, ...)
    four_eyes_above: float
    queue_for_amount: list[tuple[float, str]] = Field(default_factory=list)  # (upper bound, queue)


class Decision(_Model):
    outcome: Outcome
    grade: str | None = None
    score: float | None = None
    pd: float | None = None
    credit_limit: float | None = None
    currency: str = "USD"
    plans: list[Plan] = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list)  # at most 4 for decline/counteroffer
    counteroffer_amount: float | None = None
    counteroffer_term_months: int | None = None
    refer_queue: Queue | None = None
    required_approvals: int = 1
    missing: list[str] = Field(default_factory=list)  # incomplete: info to request, not a decline
    rules_fired: list[RuleHit] = Field(default_factory=list)
    score_breakdown: list[ScoreItem] = Field(default_factory=list)
    crosscheck: dict[str, Any] = Field(default_factory=dict)
    authority: Authority
    policy_version: str  # sha256 of the policy file
    model_version: str  # sha256 of the points table
    features: dict[str, Any] = Field(default_factory=dict)
    features_sha256: str = ""
    inputs_sha256: str = ""
