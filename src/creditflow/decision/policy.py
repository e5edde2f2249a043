"""Credit policy as versioned data (models/policy/*.yml), validated and compiled at load time.

Why: thresholds, knock-outs, authority and prices change more often than code and each
change must be reviewable and traceable, so they live in YAML whose SHA-256 is recorded in
every decision. The loader fails closed: a wrong type, an unknown symbol, a bad expression,
an APR above the legal cap or any rule touching a protected attribute aborts the load.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import rule_engine
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditflow.config import REPO_ROOT
from creditflow.decision.contract import Authority
from creditflow.decision.rulecompile import compile_expression
from creditflow.nlp.contract import RISK_CODES

POLICY_DIR = REPO_ROOT / "models" / "policy"
REASONS_PATH = POLICY_DIR / "reasons.yml"
PRODUCT_FILES = {"consumer_installment": "consumer.yml", "dealer_working_capital": "dealer.yml"}
APR_CAP = 24.0
GRADES = ("A", "B", "C", "D", "E")

# Words that name a protected attribute. A rule whose symbols contain one of these (as a whole
# identifier or as one of its `_`-separated parts) is rejected. `is_minor` is the one permitted
# use of the date of birth (legal capacity) and is computed in code.
PROTECTED_TERMS: frozenset[str] = frozenset({
    "age", "ages", "aged", "dob", "birth", "birthday", "birthdate", "born", "sex", "gender",
    "marital", "married", "spouse", "religion", "religious", "faith", "race", "racial", "ethnicity",
    "ethnic", "national", "nationality", "citizenship", "origin", "immigration", "disability",
    "disabled", "handicap", "health", "pregnancy", "pregnant", "maternity", "foreign", "orientation",
    "personal_status",
})
PROTECTED_PHRASES: tuple[str, ...] = ("date_of_birth", "marital_status", "national_origin", "foreign_worker",
                                      "personal_status", "sexual_orientation")

_T = rule_engine.DataType
SIGNAL_SYMBOLS = {f"signal_{c.lower()}": _T.BOOLEAN for c in RISK_CODES}
COMMON_SYMBOLS: dict[str, Any] = {
    "requested_amount": _T.FLOAT, "term_months": _T.FLOAT, "auto_max": _T.FLOAT,
    "score": _T.FLOAT, "pd": _T.FLOAT, "grade": _T.STRING,
    "dti": _T.FLOAT, "dti_existing": _T.FLOAT, "dti_cap": _T.FLOAT,
    "name_mismatch": _T.BOOLEAN, "name_match_score": _T.FLOAT,
    "dates_implausible": _T.BOOLEAN, "unreadable_documents": _T.FLOAT, "missing_fields_count": _T.FLOAT,
    "nsf_count": _T.FLOAT, "signals_high_count": _T.FLOAT, "signals_medium_count": _T.FLOAT,
    "signals_low_count": _T.FLOAT, "monthly_debt_payments": _T.FLOAT, **SIGNAL_SYMBOLS,
}
# Everything a consumer rule may read. No protected attribute is (or may be) listed here.
CONSUMER_SYMBOLS: dict[str, Any] = {
    **COMMON_SYMBOLS,
    "is_minor": _T.BOOLEAN, "id_expired": _T.BOOLEAN,
    "income_verified": _T.BOOLEAN, "income_diff_pct": _T.FLOAT, "income_tolerance": _T.FLOAT,
    "stated_monthly_income": _T.FLOAT, "verified_monthly_income": _T.FLOAT,
    "credit_history": _T.STRING, "employment_status": _T.STRING, "employment_years": _T.FLOAT,
    "existing_credits": _T.FLOAT, "housing": _T.STRING, "savings_balance": _T.FLOAT,
}
DEALER_SYMBOLS: dict[str, Any] = {
    **COMMON_SYMBOLS,
    "years_in_business": _T.FLOAT, "annual_revenue": _T.FLOAT, "documented_revenue": _T.FLOAT,
    "revenue_diff_pct": _T.FLOAT, "revenue_tolerance": _T.FLOAT,
    "leverage": _T.FLOAT, "net_margin": _T.FLOAT, "anchor_partner_known": _T.BOOLEAN,
    "license_number_mismatch": _T.BOOLEAN, "revenue_trend": _T.FLOAT, "revenue_periods": _T.FLOAT,
}
SYMBOLS_BY_PRODUCT = {"consumer_installment": CONSUMER_SYMBOLS, "dealer_working_capital": DEALER_SYMBOLS}


class PolicyError(ValueError):
    """The policy file is not acceptable; nothing may be decided with it."""


def protected_reference(expression: str) -> str | None:
    """Return the protected word an expression refers to, or None. String literals are ignored."""
    code = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", expression).lower()
    for ident in re.findall(r"[a-z_][a-z0-9_]*", code):
        for phrase in PROTECTED_PHRASES:
            if phrase in ident:
                return phrase
        for part in [ident, *ident.split("_")]:
            if part in PROTECTED_TERMS:
                return part
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")
    expression: str = Field(min_length=1, max_length=2000)
    effect: Literal["decline", "refer"]
    reason_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")
    severity: Literal["low", "medium", "high"]
    description: str = ""


class AuthoritySpec(_Strict):
    auto_max: float = Field(ge=0)
    role_max: dict[str, float]
    four_eyes_above: float = Field(ge=0)
    queue_for_amount: list[tuple[float, Literal["officer", "senior", "committee"]]]

    @model_validator(mode="after")
    def _ordered(self) -> "AuthoritySpec":
        bounds = [b for b, _ in self.queue_for_amount]
        if not bounds or bounds != sorted(bounds):
            raise ValueError("queue_for_amount must be a non-empty list sorted by upper bound")
        if any(v < self.auto_max for v in self.role_max.values()):
            raise ValueError("a role's authority below the automatic limit makes no sense")
        return self


class LimitSpec(_Strict):
    dti_cap: float = Field(gt=0, le=1)
    grade_multiplier: dict[str, float]  # x verified monthly income (consumer) / monthly revenue (dealer)
    min_amount: float = Field(ge=0)
    round_down_to: float = Field(gt=0)
    max_leverage_after: float | None = Field(default=None, gt=0, le=1)  # dealer: leverage cap on the limit

    @field_validator("grade_multiplier")
    @classmethod
    def _all_grades(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(GRADES) or any(m < 0 for m in v.values()):
            raise ValueError(f"grade_multiplier needs non-negative values for exactly {GRADES}")
        return v


class PricingSpec(_Strict):
    apr_by_grade: dict[str, float]  # percent
    plan_terms: list[int]
    rounding: Literal["half_up"] = "half_up"

    @field_validator("apr_by_grade")
    @classmethod
    def _cap(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(GRADES):
            raise ValueError(f"apr_by_grade needs exactly {GRADES}")
        for g, apr in v.items():
            if not 0 <= apr <= APR_CAP:
                raise ValueError(f"APR {apr} for grade {g} outside 0..{APR_CAP}")
        return v

    @field_validator("plan_terms")
    @classmethod
    def _terms(cls, v: list[int]) -> list[int]:
        if not v or any(t < 1 or t > 120 for t in v):
            raise ValueError("plan_terms must be 1..120 months")
        return v


class GradePolicy(_Strict):
    approve: list[str]
    refer: list[str]
    decline: list[str]

    @model_validator(mode="after")
    def _partition(self) -> "GradePolicy":
        allg = self.approve + self.refer + self.decline
        if sorted(allg) != sorted(GRADES):
            raise ValueError("grades approve/refer/decline must partition A-E")
        return self


class PolicyFile(_Strict):
    version: str = Field(min_length=1)
    product: Literal["consumer_installment", "dealer_working_capital"]
    description: str = ""
    authority: AuthoritySpec
    limits: LimitSpec
    pricing: PricingSpec
    grades: GradePolicy
    info_request_days: int = Field(ge=1, le=365)
    crosscheck: dict[str, Any] = Field(default_factory=dict)
    scorecard: str | None = None  # path relative to models/ (dealer: the expert scorecard)
    rules: list[RuleSpec]

    @model_validator(mode="after")
    def _unique_ids(self) -> "PolicyFile":
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule ids")
        return self


class CompiledRule:
    """A validated rule: typed check at load, untyped (faster) evaluation at run time."""

    __slots__ = ("spec", "_rule", "_fast")

    def __init__(self, spec: RuleSpec, context: rule_engine.Context) -> None:
        self.spec = spec
        word = protected_reference(spec.expression)
        if word is not None:
            raise PolicyError(f"rule {spec.id} refers to protected attribute {word!r}")
        try:
            typed = rule_engine.Rule(spec.expression, context=context)
        except rule_engine.EngineError as exc:
            raise PolicyError(f"rule {spec.id}: {type(exc).__name__}: {exc}") from exc
        if typed.statement.expression.result_type not in (_T.BOOLEAN, _T.UNDEFINED):
            raise PolicyError(f"rule {spec.id}: expression must be boolean")
        self._rule = typed
        self._fast = compile_expression(typed.statement.expression)

    def matches(self, facts: dict[str, Any]) -> bool:
        if self._fast is not None:
            return bool(self._fast(facts))
        return bool(self._rule.evaluate(facts))

    def matches_reference(self, facts: dict[str, Any]) -> bool:
        """rule-engine's own evaluation (used to prove the compiled closure agrees)."""
        return bool(self._rule.evaluate(facts))


class Policy:
    """A loaded, validated policy: rules compiled, reason texts resolved, hash known."""

    def __init__(self, spec: PolicyFile, sha256: str, reasons: dict[str, Any], path: Path) -> None:
        self.spec = spec
        self.sha256 = sha256
        self.path = path
        self.version = spec.version
        self.product = spec.product
        self.symbols = SYMBOLS_BY_PRODUCT[spec.product]
        bad = [s for s in self.symbols if protected_reference(s)]
        if bad:  # guards against someone adding a protected symbol to the schema above
            raise PolicyError(f"rule schema exposes protected attributes: {bad}")
        ctx = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(self.symbols),
                                  default_value=None)
        self.rules = [CompiledRule(r, ctx) for r in spec.rules]
        self.reason_texts: dict[str, str] = dict(reasons.get("rules", {}))
        self.score_reasons: dict[str, dict[str, str]] = dict(reasons.get("score", {}))
        fixed = ("INCOMPLETE_APPLICATION", "SCORE_BELOW_CUTOFF", "INSUFFICIENT_CAPACITY",
                 "LIMIT_BELOW_REQUEST", "GRADE_REVIEW", "AMOUNT_ABOVE_AUTO_AUTHORITY")
        unknown = {r.reason_code for r in spec.rules}.union(fixed) - set(self.reason_texts)
        if unknown:
            raise PolicyError(f"reason codes without text in reasons.yml: {sorted(unknown)}")
        self.authority = Authority(auto_max=spec.authority.auto_max, role_max=dict(spec.authority.role_max),
                                   four_eyes_above=spec.authority.four_eyes_above,
                                   queue_for_amount=[(b, q) for b, q in spec.authority.queue_for_amount])

    def reason_text(self, code: str) -> str:
        return self.reason_texts[code]

    def evaluate(self, facts: dict[str, Any]) -> list[RuleSpec]:
        """Rules that fire on these facts, in file order. Missing symbols fail closed (error)."""
        missing = [s for s in self.symbols if s not in facts]
        if missing:
            raise PolicyError(f"facts lack symbols {missing}")
        return [r.spec for r in self.rules if r.matches(facts)]


def _read_yaml(path: Path) -> tuple[dict[str, Any], bytes]:
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: top level must be a mapping")
    return data, raw


def load_policy_file(path: Path, reasons_path: Path = REASONS_PATH) -> Policy:
    """Load and validate one policy file. Raises PolicyError (fail closed) on any problem.

    The recorded hash is the policy file's; reason texts carry their own version (reasons.yml)."""
    data, raw = _read_yaml(Path(path))
    reasons, _ = _read_yaml(reasons_path)
    try:
        spec = PolicyFile.model_validate(data)
    except ValueError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    sha = hashlib.sha256(raw).hexdigest()
    return Policy(spec, sha, reasons, Path(path))


@lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int) -> Policy:
    return load_policy_file(Path(path))


def load_policy_cached(path: Path) -> Policy:
    """Load once per (path, modification time): an edited file is reloaded, an unchanged one is not."""
    return _cached(str(path), os.stat(path).st_mtime_ns)


def load_policy(product: str) -> Policy:
    """The shipped policy for a product (models/policy/consumer.yml or dealer.yml)."""
    if product not in PRODUCT_FILES:
        raise PolicyError(f"unknown product {product!r}")
    return load_policy_cached(POLICY_DIR / PRODUCT_FILES[product])


def authority_check(authority: Authority, role: str, amount: float) -> bool:
    """May `role` approve `amount` alone under this authority? ("auto" = automatic approval.)"""
    if role == "auto":
        return amount <= authority.auto_max
    limit = authority.role_max.get(role)
    if limit is None and role == "admin":
        return False
    return limit is not None and amount <= limit


def queue_for(authority: Authority, amount: float) -> str:
    """The review queue whose authority covers `amount` (committee above every bound)."""
    for bound, queue in authority.queue_for_amount:
        if amount <= bound:
            return queue
    return "committee"


def required_approvals(authority: Authority, amount: float) -> int:
    return 2 if amount > authority.four_eyes_above else 1
