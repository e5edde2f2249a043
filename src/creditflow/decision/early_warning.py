"""Early-warning rules and behavioural re-score for open credit lines.

Why rules as data: which behaviour gets a reminder, a watch-list entry, a freeze or a limit
cut is credit policy, changed by risk staff and audited; so the conditions live in
models/policy/early_warning.yml as rule-engine expressions over named, typed facts, are
type-checked when the file loads, and every action carries the file's sha256.

This module is pure: `derive_facts` turns a snapshot of the line (scalars plus raw series
of transactions, note signals and bureau reports) into the flat fact dict the rules read;
`evaluate` fires the rules whose condition has just become true (edge-triggered, so an
ongoing condition acts once per episode); `rescore` adds up behavioural points. No Temporal,
no HTTP, no clock: `as_of` comes with the snapshot.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import rule_engine
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditflow.config import REPO_ROOT

POLICY_PATH = REPO_ROOT / "models" / "policy" / "early_warning.yml"
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")
ActionKind = Literal[
    "reminder", "watch_list", "watch_list_release", "rescore", "freeze", "unfreeze",
    "limit_reduction", "limit_increase_offer",
]
Severity = Literal["low", "medium", "high"]
_TYPES = {"STRING": rule_engine.DataType.STRING, "FLOAT": rule_engine.DataType.FLOAT,
          "BOOLEAN": rule_engine.DataType.BOOLEAN}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Loose(BaseModel):
    # snapshots come from the workflow's own types, which carry more than we read
    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- policy file

class RuleSpec(_Strict):
    id: str
    when: str
    actions: list[ActionKind] = Field(min_length=1)
    reason_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$")
    severity: Severity
    text: str


class Adjustment(_Strict):
    id: str
    when: str
    points: float


class RescoreSpec(_Strict):
    notch_points: float = Field(gt=0)
    max_upgrade_notches: int = Field(ge=0, le=4)
    adjustments: list[Adjustment]


class PlanSpec(_Strict):
    term_months: int = Field(ge=1, le=120)
    apr: float = Field(ge=0, le=24)  # DESIGN.md: APR never above 24%


class LineSpec(_Strict):
    default_plans: list[PlanSpec] = Field(min_length=1)
    rescore_interval_days: int = Field(ge=1)
    transaction_window_days: int = Field(ge=1)
    signal_window_days: int = Field(ge=1)
    offer_valid_days: int = Field(ge=1)


class GamblingSpec(_Strict):
    categories: list[str]
    merchant_patterns: list[str]

    @field_validator("merchant_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            re.compile(p)
        return patterns


class LimitSpec(_Strict):
    reduction_factor: float = Field(gt=0, lt=1)
    increase_pct: float = Field(gt=0, le=1)
    increase_max_step: float = Field(gt=0)
    increase_round_to: float = Field(gt=0)
    max_limit: dict[str, float]


class PolicyFile(_Strict):
    label: str
    changelog: list[str] = Field(default_factory=list)
    line: LineSpec
    gambling: GamblingSpec
    limits: LimitSpec
    facts: dict[str, Literal["STRING", "FLOAT", "BOOLEAN"]]
    rules: list[RuleSpec] = Field(min_length=1)
    rescore: RescoreSpec

    @model_validator(mode="after")
    def _unique_ids(self) -> "PolicyFile":
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule id")
        return self


class EarlyWarningPolicy:
    """A loaded, type-checked policy: compiled rules plus the file's sha256 as `version`."""

    def __init__(self, spec: PolicyFile, version: str) -> None:
        self.spec = spec
        self.version = version
        context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(
            {name: _TYPES[kind] for name, kind in spec.facts.items()}))
        try:
            self.rules = [(r, rule_engine.Rule(r.when, context=context)) for r in spec.rules]
            self.adjustments = [(a, rule_engine.Rule(a.when, context=context))
                                for a in spec.rescore.adjustments]
        except rule_engine.errors.EngineError as exc:  # unknown fact, wrong type, bad syntax
            raise ValueError(f"early-warning policy has a bad rule: {exc}") from exc
        self._gambling_patterns = [re.compile(p, re.IGNORECASE) for p in spec.gambling.merchant_patterns]
        self._gambling_categories = {c.lower() for c in spec.gambling.categories}

    def is_gambling(self, merchant: str, category: str) -> bool:
        if category.strip().lower() in self._gambling_categories:
            return True
        return any(p.search(merchant) for p in self._gambling_patterns)


def load_policy(path: Path | None = None) -> EarlyWarningPolicy:
    """Load and validate the policy file; cached per file content."""
    raw = (path or POLICY_PATH).read_bytes()
    return _load_cached(raw)


@lru_cache(maxsize=8)
def _load_cached(raw: bytes) -> EarlyWarningPolicy:
    spec = PolicyFile.model_validate(yaml.safe_load(raw))
    return EarlyWarningPolicy(spec, hashlib.sha256(raw).hexdigest())


# ---------------------------------------------------------------- snapshot -> facts

class Txn(_Loose):
    merchant: str
    category: str = ""
    amount: float
    observed_on: date


class Signal(_Loose):
    code: str
    polarity: str
    subject: str
    severity: str
    observed_on: date


class BureauReport(_Loose):
    reported_on: date
    external_delinquencies: int | None = None
    anchor_orders_amount: float | None = None
    receivables_overdue_days: int | None = None


class Snapshot(_Loose):
    """What the rules may know about a line on `as_of`. No PII: amounts, counts, codes."""

    as_of: date
    product: str
    dpd: int = 0
    max_dpd_180d: int = 0
    days_current: int = 0
    months_on_book: int = 0
    credit_limit: float
    origination_limit: float
    principal_outstanding: float = 0.0
    watch_list: bool = False
    watch_clean_days: int = 0
    frozen: bool = False
    origination_grade: str
    grade: str
    days_since_last_offer: int = 10_000
    offer_open: bool = False
    transactions: list[Txn] = Field(default_factory=list)
    note_signals: list[Signal] = Field(default_factory=list)
    bureau: list[BureauReport] = Field(default_factory=list)


def _counts_against(s: Signal) -> bool:
    # DESIGN.md: only affirmed signals about the applicant count against them
    return s.polarity == "affirmed" and s.subject == "applicant"


def anchor_orders_change(reports: list[BureauReport]) -> float:
    """Latest anchor order amount against the mean of up to three earlier reports
    (-0.4 = orders fell 40%). 0.0 until there are two reports to compare."""
    series = [r.anchor_orders_amount for r in sorted(reports, key=lambda r: r.reported_on)
              if r.anchor_orders_amount is not None]
    if len(series) < 2:
        return 0.0
    earlier = series[-4:-1]
    base = sum(earlier) / len(earlier)
    if base <= 0:
        return 0.0
    return round(series[-1] / base - 1.0, 4)


def _latest(reports: list[BureauReport], field: str) -> float:
    for r in sorted(reports, key=lambda r: r.reported_on, reverse=True):
        value = getattr(r, field)
        if value is not None:
            return float(value)
    return 0.0


def derive_facts(snapshot: Snapshot, policy: EarlyWarningPolicy) -> dict[str, Any]:
    """The flat, typed fact dict of the policy's `facts:` section."""
    line = policy.spec.line
    txn_from = snapshot.as_of - timedelta(days=line.transaction_window_days)
    sig_from = snapshot.as_of - timedelta(days=line.signal_window_days)
    gambling = [t for t in snapshot.transactions
                if t.observed_on > txn_from and policy.is_gambling(t.merchant, t.category)]
    signals = [s for s in snapshot.note_signals if s.observed_on > sig_from and _counts_against(s)]
    grade_drop = GRADES.index(snapshot.grade) - GRADES.index(snapshot.origination_grade)
    facts: dict[str, Any] = {
        "product": snapshot.product,
        "dpd": snapshot.dpd,
        "max_dpd_180d": snapshot.max_dpd_180d,
        "days_current": snapshot.days_current,
        "months_on_book": snapshot.months_on_book,
        "credit_limit": snapshot.credit_limit,
        "origination_limit": snapshot.origination_limit,
        "principal_outstanding": snapshot.principal_outstanding,
        "utilisation": (round(snapshot.principal_outstanding / snapshot.credit_limit, 4)
                        if snapshot.credit_limit > 0 else 0.0),
        "watch_list": snapshot.watch_list,
        "watch_clean_days": snapshot.watch_clean_days,
        "frozen": snapshot.frozen,
        "grade_drop_notches": grade_drop,
        "days_since_last_offer": snapshot.days_since_last_offer,
        "offer_open": snapshot.offer_open,
        "gambling_txns": len(gambling),
        "gambling_amount": round(sum(abs(t.amount) for t in gambling), 2),
        "employment_loss_notes": sum(1 for s in signals if s.code == "EMPLOYMENT_LOSS"),
        "business_distress_notes": sum(1 for s in signals if s.code == "BUSINESS_DISTRESS"),
        "adverse_note_signals": len(signals),
        "external_delinquencies": _latest(snapshot.bureau, "external_delinquencies"),
        "anchor_orders_change_pct": anchor_orders_change(snapshot.bureau),
        "receivables_overdue_days": _latest(snapshot.bureau, "receivables_overdue_days"),
    }
    missing = set(policy.spec.facts) ^ set(facts)
    if missing:  # the file and this function must name the same facts
        raise ValueError(f"facts out of step with the policy file: {sorted(missing)}")
    return facts


# ---------------------------------------------------------------- rules

class Action(_Strict):
    action: ActionKind
    rule_id: str
    reason_code: str
    severity: Severity
    text: str
    new_limit: float | None = None


class Evaluation(_Strict):
    actions: list[Action]
    active_rules: list[str]  # every rule whose condition holds now (fired or not)
    watch_conditions_active: bool  # some active rule puts the line on the watch list
    facts: dict[str, Any]
    policy_version: str


def reduced_limit(facts: dict[str, Any], policy: EarlyWarningPolicy) -> float | None:
    """Cut to `reduction_factor` of the limit but never below what is already drawn."""
    limit = float(facts["credit_limit"])
    new = max(float(facts["principal_outstanding"]), limit * policy.spec.limits.reduction_factor)
    new = round(new, 2)
    return new if new < limit else None


def increased_limit(facts: dict[str, Any], policy: EarlyWarningPolicy) -> float | None:
    """Raise by `increase_pct`, at most `increase_max_step`, rounded down, capped per product."""
    spec = policy.spec.limits
    limit = float(facts["credit_limit"])
    cap = spec.max_limit.get(str(facts["product"]), limit)
    raw = min(limit * (1 + spec.increase_pct), limit + spec.increase_max_step, cap)
    new = (raw // spec.increase_round_to) * spec.increase_round_to
    return float(new) if new > limit else None


def evaluate(snapshot: Snapshot, policy: EarlyWarningPolicy,
             previously_active: list[str] | set[str] = ()) -> Evaluation:
    """Fire the rules that have just turned true, in file order, each with its reason code.

    A limit action whose amount would not change the limit is dropped (e.g. a cut when the
    line is fully drawn, an increase when the product cap is reached).
    """
    facts = derive_facts(snapshot, policy)
    before = set(previously_active)
    active: list[str] = []
    actions: list[Action] = []
    watch = False
    for spec, rule in policy.rules:
        if not rule.matches(facts):
            continue
        active.append(spec.id)
        watch = watch or "watch_list" in spec.actions
        if spec.id in before:
            continue
        for kind in spec.actions:
            new_limit = None
            if kind == "limit_reduction":
                new_limit = reduced_limit(facts, policy)
            elif kind == "limit_increase_offer":
                new_limit = increased_limit(facts, policy)
            if kind in ("limit_reduction", "limit_increase_offer") and new_limit is None:
                continue
            actions.append(Action(action=kind, rule_id=spec.id, reason_code=spec.reason_code,
                                  severity=spec.severity, text=spec.text, new_limit=new_limit))
    return Evaluation(actions=actions, active_rules=active, watch_conditions_active=watch,
                      facts=facts, policy_version=policy.version)


# ---------------------------------------------------------------- behavioural re-score

class Rescore(_Strict):
    score: float
    grade: str
    points: dict[str, float]  # adjustment id -> points, for the explanation
    model_version: str  # the policy version: the adjustments live in the same file


def rescore(snapshot: Snapshot, origination_score: float, policy: EarlyWarningPolicy) -> Rescore:
    """Origination score plus behavioural points; one grade notch per `notch_points`."""
    facts = derive_facts(snapshot, policy)
    points = {a.id: a.points for a, rule in policy.adjustments if rule.matches(facts)}
    total = sum(points.values())
    spec = policy.spec.rescore
    # toward zero: a notch needs the full points; upgrades are capped, downgrades are not
    shift = min(int(total / spec.notch_points), spec.max_upgrade_notches)
    index = min(max(GRADES.index(snapshot.origination_grade) - shift, 0), len(GRADES) - 1)
    return Rescore(score=round(origination_score + total, 2), grade=GRADES[index], points=points,
                   model_version=policy.version)
