"""Messages and state of `CreditLineWorkflow` (one pydantic model per message).

Why here and not in src/: the workflow sandbox re-imports this module, so it imports nothing
but pydantic and the standard library. The pure helpers at the bottom (payment waterfall,
days past due, bucket) mutate only a `CreditLineState` and read no clock: the workflow
passes `workflow.now()` in, which keeps them deterministic and unit-testable.

Message ids (`draw_id`, `payment_id`, `txn_id`, `note_id`, `update_id`) make every message
idempotent: a duplicate within the remembered window is ignored (a duplicate draw returns
the first answer). No field here is meant to hold PII: notes are analysed and only their
risk codes are kept; transactions keep merchant name, category and amount.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Bucket = Literal["current", "1-29", "30-59", "60-89", "90+"]
BUCKETS: tuple[str, ...] = ("current", "1-29", "30-59", "60-89", "90+")
ActionKind = Literal[
    "reminder", "watch_list", "watch_list_release", "rescore", "freeze", "unfreeze",
    "limit_reduction", "limit_increase_offer", "limit_increase",
]
Grade = Literal["A", "B", "C", "D", "E"]
Product = Literal["consumer_installment", "dealer_working_capital"]

# How much history the state remembers; beyond these it keeps counters only, so a line
# that lives for years carries a bounded state through continue-as-new.
SEEN_IDS_KEPT = 2000
ALERTS_KEPT = 200
ACTIONS_KEPT = 200
PAYMENTS_KEPT = 200
DPD_WINDOW_DAYS = 180
# Amounts below one cent are rounding noise, never a missed payment.
EPSILON = 0.005


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- messages (inputs)

class Draw(_Model):
    """Update `draw`: take `amount` from the line, repaid over `term_months`."""

    draw_id: str = Field(min_length=1, max_length=100)
    amount: float = Field(gt=0, allow_inf_nan=False)
    term_months: int = Field(ge=1, le=120)
    merchant: str | None = Field(default=None, max_length=200)


class RepaymentPosted(_Model):
    payment_id: str = Field(min_length=1, max_length=100)
    amount: float = Field(gt=0, allow_inf_nan=False)
    posted_on: date


class TransactionObserved(_Model):
    """A card/account transaction seen by the servicer (for behavioural early warning)."""

    txn_id: str = Field(min_length=1, max_length=100)
    merchant: str = Field(max_length=200)
    category: str = Field(default="", max_length=100)  # MCC description or code, e.g. "7995"
    amount: float = Field(allow_inf_nan=False)
    observed_on: date


class NoteAdded(_Model):
    """Free text from servicing staff or a collector; analysed by the NLP service."""

    note_id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=20_000)


class BureauUpdate(_Model):
    """Periodic outside data: bureau tradelines (consumer) or anchor/receivables (dealer)."""

    update_id: str = Field(min_length=1, max_length=100)
    reported_on: date
    external_delinquencies: int | None = Field(default=None, ge=0)  # open delinquent tradelines elsewhere
    new_inquiries: int | None = Field(default=None, ge=0)
    anchor_orders_amount: float | None = Field(default=None, ge=0)  # dealer: anchor's orders this period
    receivables_overdue_days: int | None = Field(default=None, ge=0)  # dealer: oldest overdue receivable


class AcceptLimitIncrease(_Model):
    offer_id: str


# ---------------------------------------------------------------- state pieces

class PlanTerms(BaseModel):
    """A term the line may be drawn on and its APR (percent). Extra keys are ignored so the
    decision's `Plan` objects can be passed as they are."""

    model_config = ConfigDict(extra="ignore")
    term_months: int = Field(ge=1, le=120)
    apr: float = Field(ge=0, le=100)


class LinePolicy(_Model):
    """The servicing parameters the workflow itself needs, loaded once per run by an
    activity from models/policy/early_warning.yml (so the workflow reads no files)."""

    version: str  # sha256 of the policy file
    default_plans: list[PlanTerms]
    rescore_interval_days: int = Field(ge=1)
    transaction_window_days: int = Field(ge=1)
    signal_window_days: int = Field(ge=1)
    offer_valid_days: int = Field(ge=1)


class Installment(_Model):
    seq: int
    due_on: date
    principal: float
    interest: float
    amount: float
    paid: float = 0.0

    @property
    def remaining(self) -> float:
        return round(self.amount - self.paid, 2)

    @property
    def principal_remaining(self) -> float:
        # principal is repaid pro rata within an installment (interest and principal together)
        if self.amount <= 0:
            return 0.0
        return round(self.principal * self.remaining / self.amount, 2)


class InstallmentPlan(_Model):
    draw_id: str
    drawn_on: date
    amount: float
    term_months: int
    apr: float
    monthly_payment: float
    total_interest: float
    merchant: str | None = None
    installments: list[Installment]


class PaymentRecord(_Model):
    payment_id: str
    amount: float
    posted_on: date
    applied: float  # to installments; the rest went to credit_balance


class TxnRecord(_Model):
    txn_id: str
    merchant: str
    category: str
    amount: float
    observed_on: date


class NoteSignal(_Model):
    """One risk signal of a note, without the note's text (the evidence offsets suffice)."""

    note_id: str
    code: str
    polarity: Literal["affirmed", "negated", "hypothetical", "historical"]
    subject: Literal["applicant", "third_party"]
    severity: Literal["low", "medium", "high"]
    start: int
    end: int
    observed_on: date


class Alert(_Model):
    alert_id: str
    raised_on: date
    code: str  # the reason code
    severity: Literal["low", "medium", "high"]
    message: str


class ActionRecord(_Model):
    action: ActionKind
    reason_code: str
    rule_id: str
    taken_on: date
    detail: dict[str, bool | int | float | str | None] = Field(default_factory=dict)
    policy_version: str


class LimitOffer(_Model):
    offer_id: str
    offered_on: date
    expires_on: date
    current_limit: float
    new_limit: float
    status: Literal["open", "accepted", "expired"] = "open"


class Counters(_Model):
    evaluations_total: int = 0
    evaluations_this_run: int = 0
    runs: int = 1  # 1 + number of continue-as-new so far
    draws: int = 0
    payments: int = 0
    transactions: int = 0
    notes: int = 0
    bureau_updates: int = 0
    duplicates_ignored: int = 0
    alerts_raised: int = 0
    actions_taken: int = 0
    rescores: int = 0
    note_analysis_failures: int = 0


class CreditLineState(_Model):
    application_id: str
    product: Product
    currency: str
    opened_on: date
    credit_limit: float
    origination_limit: float
    origination_score: float
    origination_grade: Grade
    score: float
    grade: Grade
    last_rescored_on: date | None = None
    score_model_version: str | None = None

    plans_offered: list[PlanTerms] = Field(default_factory=list)
    draws: list[InstallmentPlan] = Field(default_factory=list)
    payments: list[PaymentRecord] = Field(default_factory=list)
    total_drawn: float = 0.0
    total_repaid: float = 0.0
    credit_balance: float = 0.0  # overpayment held for the borrower

    # derived by refresh(): kept as plain fields so queries and continue-as-new carry them
    principal_outstanding: float = 0.0
    balance_outstanding: float = 0.0
    amount_overdue: float = 0.0
    available: float = 0.0
    next_due_on: date | None = None
    next_due_amount: float = 0.0

    days_past_due: int = 0
    max_dpd: int = 0
    bucket: Bucket = "current"
    days_current: int = 0  # consecutive evaluations at 0 DPD
    dpd_window: list[int] = Field(default_factory=list)  # last DPD_WINDOW_DAYS daily values
    delinquent_since: date | None = None

    watch_list: bool = False
    watch_reasons: list[str] = Field(default_factory=list)
    watch_clean_days: int = 0
    frozen: bool = False
    frozen_reason: str | None = None
    active_rules: list[str] = Field(default_factory=list)

    transactions: list[TxnRecord] = Field(default_factory=list)  # within the policy window
    note_signals: list[NoteSignal] = Field(default_factory=list)  # within the policy window
    bureau: list[BureauUpdate] = Field(default_factory=list)  # last 12

    pending_offer: LimitOffer | None = None
    last_offer_on: date | None = None

    alerts: list[Alert] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    last_evaluated_on: date | None = None
    policy: LinePolicy | None = None
    seen_ids: list[str] = Field(default_factory=list)
    counters: Counters = Field(default_factory=Counters)


class CreditLineInput(_Model):
    """What the parent (`CreditApplicationWorkflow`) gives the line, or what a run carries
    into the next one through continue-as-new (`carried_state`)."""

    application_id: str
    product: Product
    currency: str = "USD"
    credit_limit: float = Field(gt=0, allow_inf_nan=False)
    grade: Grade
    score: float
    opened_on: date
    plans: list[PlanTerms] = Field(default_factory=list)  # empty: the policy's default plans
    carried_state: CreditLineState | None = None
    # Operational: evaluations per run before continue-as-new (history stays small).
    evaluations_per_run: int = Field(default=90, ge=1, le=3650)


class DrawResult(_Model):
    draw_id: str
    plan: InstallmentPlan
    available_after: float
    duplicate: bool = False


class PlanDrawRequest(_Model):
    """Activity input: compute a draw's schedule."""

    application_id: str
    draw_id: str
    amount: float
    term_months: int
    apr: float
    drawn_on: date
    merchant: str | None = None


class EarlyWarningRequest(_Model):
    """Activity input: what the rules see. Scalars come from the state; series (transactions,
    bureau reports) are passed raw and turned into facts by decision/early_warning.py."""

    application_id: str
    as_of: date
    product: Product
    dpd: int
    max_dpd_180d: int
    bucket: Bucket
    days_current: int
    months_on_book: int
    credit_limit: float
    origination_limit: float
    principal_outstanding: float
    watch_list: bool
    watch_clean_days: int
    frozen: bool
    origination_grade: Grade
    grade: Grade
    days_since_last_offer: int
    offer_open: bool
    transactions: list[TxnRecord] = Field(default_factory=list)
    note_signals: list[NoteSignal] = Field(default_factory=list)
    bureau: list[BureauUpdate] = Field(default_factory=list)
    previously_active: list[str] = Field(default_factory=list)


class LineAction(_Model):
    action: ActionKind
    rule_id: str
    reason_code: str
    severity: Literal["low", "medium", "high"]
    text: str
    new_limit: float | None = None


class EarlyWarningResult(_Model):
    actions: list[LineAction]
    active_rules: list[str]
    watch_conditions_active: bool
    policy_version: str


class RescoreRequest(_Model):
    snapshot: EarlyWarningRequest
    origination_score: float


class RescoreResult(_Model):
    score: float
    grade: Grade
    points: dict[str, float]
    model_version: str


class NoteAnalysisRequest(_Model):
    application_id: str
    note_id: str
    text: str
    observed_on: date


class NoteAnalysisResult(_Model):
    note_id: str
    signals: list[NoteSignal]
    model_version: str


class LineEvent(_Model):
    """Activity input: one thing that happened to the line, for the evidence log."""

    application_id: str
    kind: Literal["opened", "draw", "action", "rescore", "continued"]
    occurred_on: date
    reason_code: str | None = None
    detail: dict[str, bool | int | float | str | None] = Field(default_factory=dict)
    policy_version: str | None = None


class LineEventReceipt(_Model):
    event_sha256: str


# ---------------------------------------------------------------- pure state helpers

def bucket_for(dpd: int) -> Bucket:
    """DESIGN.md buckets: current, 1-29, 30-59, 60-89, 90+."""
    if dpd <= 0:
        return "current"
    if dpd < 30:
        return "1-29"
    if dpd < 60:
        return "30-59"
    if dpd < 90:
        return "60-89"
    return "90+"


def _open_installments(state: CreditLineState) -> list[Installment]:
    items = [i for plan in state.draws for i in plan.installments if i.remaining > EPSILON]
    return sorted(items, key=lambda i: i.due_on)


def days_past_due(state: CreditLineState, as_of: date) -> int:
    """Days since the oldest installment still unpaid fell due (0 when none is overdue)."""
    overdue = [i for i in _open_installments(state) if i.due_on < as_of]
    return (as_of - overdue[0].due_on).days if overdue else 0


def refresh(state: CreditLineState, as_of: date | None = None) -> None:
    """Recompute the derived amounts after any change to draws, payments or limit."""
    open_items = _open_installments(state)
    state.principal_outstanding = round(sum(i.principal_remaining for i in open_items), 2)
    state.balance_outstanding = round(sum(i.remaining for i in open_items), 2)
    state.available = round(max(0.0, state.credit_limit - state.principal_outstanding), 2)
    if as_of is not None:
        state.amount_overdue = round(sum(i.remaining for i in open_items if i.due_on < as_of), 2)
    upcoming = open_items[0] if open_items else None
    state.next_due_on = upcoming.due_on if upcoming else None
    state.next_due_amount = upcoming.remaining if upcoming else 0.0


def apply_payment(state: CreditLineState, amount: float) -> float:
    """Waterfall: oldest due installment first (overdue ones, then prepayment of the next);
    whatever is left after every installment is paid stays as a credit balance.
    Returns the amount applied to installments."""
    left = round(amount + state.credit_balance, 2)
    state.credit_balance = 0.0
    applied = 0.0
    for item in _open_installments(state):
        if left <= EPSILON:
            break
        pay = min(item.remaining, left)
        item.paid = round(item.paid + pay, 2)
        left = round(left - pay, 2)
        applied = round(applied + pay, 2)
    state.credit_balance = max(0.0, left)
    return applied


def remember_id(state: CreditLineState, message_id: str) -> bool:
    """True when the id is new (and remembers it); False for a duplicate."""
    if message_id in state.seen_ids:
        state.counters.duplicates_ignored += 1
        return False
    state.seen_ids.append(message_id)
    if len(state.seen_ids) > SEEN_IDS_KEPT:
        del state.seen_ids[: len(state.seen_ids) - SEEN_IDS_KEPT]
    return True


def months_between(start: date, end: date) -> int:
    """Whole months from start to end (months on book)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(0, months)
