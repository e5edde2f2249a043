"""The decision engine: application facts in, one explainable and reproducible `Decision` out.

Order of work: completeness (an incomplete application is an information request, never a
decline) -> cross-checks -> features -> score, PD, grade -> affordability and limit -> policy
rules -> outcome, queue and authority -> plans and principal reasons. Everything that shapes
the outcome is recorded (features, rules fired, score breakdown, cross-checks, hashes of
inputs, policy and points table) so `simulate` can re-decide it under another policy.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from creditflow.config import REPO_ROOT
from creditflow.decision import pricing
from creditflow.decision.contract import Decision, DecisionInput, Reason, RuleHit
from creditflow.decision.crosscheck import CrossCheck, crosscheck_consumer
from creditflow.decision.features import consumer_features
from creditflow.decision.policy import (POLICY_DIR, PRODUCT_FILES, Policy, RuleSpec, load_policy_cached,
                                        queue_for, required_approvals)
from creditflow.decision.scorecard import DEFAULT_POINTS, Scorecard, ScoreResult
from creditflow.nlp.contract import RISK_CODES, RiskSignal
from creditflow.schemas import missing_documents

MAX_REASONS = 4
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


# Built once instead of per call as `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# default=str)` does: same settings, same bytes; every decision hashes twice.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_sha256(obj: Any) -> str:
    """SHA-256 of canonical JSON (sorted keys, no whitespace, UTF-8): stable across processes."""
    return hashlib.sha256(_CANONICAL.encode(obj).encode("utf-8")).hexdigest()


@lru_cache(maxsize=16)
def _scorecard(path: str, mtime_ns: int) -> Scorecard:
    return Scorecard.load(Path(path))


def load_scorecard_cached(path: Path) -> Scorecard:
    return _scorecard(str(path), os.stat(path).st_mtime_ns)


_SIGNAL_KEY = {c: f"signal_{c.lower()}" for c in RISK_CODES}
_NO_SIGNALS: dict[str, Any] = {k: False for k in _SIGNAL_KEY.values()}


def signal_facts(signals: list[RiskSignal]) -> dict[str, Any]:
    """Only affirmed signals about the applicant count; negated, hypothetical, historical and
    third-party mentions are shown to the officer but never weigh in the decision."""
    counting = [s for s in signals if s.polarity == "affirmed" and s.subject == "applicant"]
    facts: dict[str, Any] = dict(_NO_SIGNALS)  # the fact names are fixed: built once, copied per decision
    for s in counting:
        facts[_SIGNAL_KEY.get(s.code) or f"signal_{s.code.lower()}"] = True
    high = medium = low = 0
    for s in counting:
        if s.severity == "high":
            high += 1
        elif s.severity == "medium":
            medium += 1
        elif s.severity == "low":
            low += 1
    facts["signals_high_count"] = float(high)
    facts["signals_medium_count"] = float(medium)
    facts["signals_low_count"] = float(low)
    return facts


def _rule_hits(fired: list[RuleSpec]) -> list[RuleHit]:
    return [RuleHit(rule_id=r.id, effect=r.effect, reason_code=r.reason_code, severity=r.severity) for r in fired]


def _reasons_from_rules(policy: Policy, fired: list[RuleSpec], effect: str) -> list[Reason]:
    seen: set[str] = set()
    out = []
    for r in sorted((r for r in fired if r.effect == effect), key=lambda r: _SEVERITY_RANK[r.severity]):
        if r.reason_code not in seen:
            seen.add(r.reason_code)
            out.append(Reason(code=r.reason_code, text=policy.reason_text(r.reason_code)))
    return out


def score_reasons(policy: Policy, scorecard_max: dict[str, float], result: ScoreResult) -> list[Reason]:
    """Characteristics ordered by points lost against their best bin (largest shortfall first)."""
    short = sorted(((scorecard_max[i.feature] - i.points, i.feature) for i in result.items), reverse=True)
    out = []
    for gap, feature in short:
        if gap <= 1e-6 or feature not in policy.score_reasons:
            continue
        sr = policy.score_reasons[feature]
        out.append(Reason(code=sr["code"], text=sr["text"]))
    return out


def _merge(*groups: list[Reason], limit: int | None = MAX_REASONS) -> list[Reason]:
    out: list[Reason] = []
    seen: set[str] = set()
    for g in groups:
        for r in g:
            if r.code not in seen:
                seen.add(r.code)
                out.append(r)
    return out if limit is None else out[:limit]


# One Path per product, built once: a Path caches its string form, which load_policy_cached stats per call.
_DEFAULT_POLICY_PATHS: dict[str, Path] = {product: POLICY_DIR / name for product, name in PRODUCT_FILES.items()}


def _default_policy_path(product: str) -> Path:
    return _DEFAULT_POLICY_PATHS[product]


def _incomplete(inp: DecisionInput, cc: CrossCheck) -> list[str]:
    present = {d.doc_type for d in inp.documents if d.doc_type}
    missing = missing_documents(inp.product, present)
    missing += [f for f in cc.missing_fields if f not in missing]
    return missing


def decide(inp: DecisionInput, policy_path: Path | None = None, scorecard_path: Path | None = None) -> Decision:
    """Decide one application. Pure function of (inp, policy file, points table)."""
    if inp.product == "dealer_working_capital":
        from creditflow.decision.dealer import decide_dealer

        return decide_dealer(inp, policy_path=policy_path, scorecard_path=scorecard_path)
    policy = load_policy_cached(policy_path or _default_policy_path(inp.product))
    if policy.product != inp.product:
        raise ValueError(f"policy {policy.path} is for {policy.product}, not {inp.product}")
    sc = load_scorecard_cached(scorecard_path or DEFAULT_POINTS)
    return _decide_consumer(inp, policy, sc)


def _decide_consumer(inp: DecisionInput, policy: Policy, sc: Scorecard) -> Decision:
    spec = policy.spec
    cc = crosscheck_consumer(inp, spec.crosscheck)
    features = consumer_features(inp, cc)
    result = sc.score(features)
    grade = sc.grade(result.score)
    apr = spec.pricing.apr_by_grade[grade]
    income = features["monthly_income"]
    debt = features["monthly_debt_payments"]
    installment = pricing.monthly_installment(inp.requested_amount, apr, inp.term_months)
    dti = (debt + installment) / income if income > 0 else 99.0
    dti_existing = debt / income if income > 0 else 99.0
    features["dti"] = round(dti, 4)
    features["dti_existing"] = round(dti_existing, 4)
    limit, binding = pricing.credit_limit(
        requested=inp.requested_amount, income=income, existing_debt=debt,
        multiplier=spec.limits.grade_multiplier[grade], dti_cap=spec.limits.dti_cap, apr=apr,
        term_months=inp.term_months, round_to=spec.limits.round_down_to)

    facts: dict[str, Any] = {
        "requested_amount": float(inp.requested_amount), "term_months": float(inp.term_months),
        "auto_max": spec.authority.auto_max, "score": result.score, "pd": result.pd, "grade": grade,
        "dti": dti, "dti_existing": dti_existing, "dti_cap": spec.limits.dti_cap,
        "name_mismatch": cc.name_mismatch, "name_match_score": cc.name_match_score,
        "dates_implausible": cc.dates_implausible, "unreadable_documents": float(len(cc.unreadable_documents)),
        "missing_fields_count": float(len(cc.missing_fields)), "nsf_count": float(cc.nsf_count),
        "monthly_debt_payments": debt,
        "is_minor": cc.is_minor, "id_expired": cc.id_expired,
        "income_verified": cc.income.verified is not None,
        "income_diff_pct": cc.income.diff_pct if cc.income.diff_pct is not None else 0.0,
        "income_tolerance": float(spec.crosscheck.get("income_tolerance", 0.10)),
        "stated_monthly_income": features["stated_monthly_income"],
        "verified_monthly_income": float(cc.income.verified or 0.0),
        "credit_history": features["credit_history"], "employment_status": features["employment_status"],
        "employment_years": float(inp.applicant.get("employment_years") or 0.0),
        "existing_credits": float(features["existing_credits"]), "housing": features["housing"],
        "savings_balance": features["savings_balance"],
        **signal_facts(inp.signals),
    }
    fired = policy.evaluate(facts)
    crosscheck = cc.model_dump(mode="json")
    crosscheck["limit_binding_constraint"] = binding
    base: dict[str, Any] = dict(
        grade=grade, score=result.score, pd=result.pd, currency=inp.currency,
        rules_fired=_rule_hits(fired), score_breakdown=result.items, crosscheck=crosscheck,
        authority=policy.authority, policy_version=policy.sha256, model_version=sc.sha256,
        features=features, features_sha256=canonical_sha256(features),
        inputs_sha256=canonical_sha256(inp.model_dump(mode="json")),
    )
    return _outcome(inp, policy, sc, result, grade, apr, limit, binding, fired, cc, base)


def _outcome(inp: DecisionInput, policy: Policy, sc: Any, result: ScoreResult, grade: str, apr: float,
             limit: float, binding: str, fired: list[RuleSpec], cc: CrossCheck, base: dict[str, Any]) -> Decision:
    """Shared by consumer and dealer: turn grade, limit and fired rules into the outcome."""
    spec = policy.spec
    auth = policy.authority
    amount = float(inp.requested_amount)
    missing = _incomplete(inp, cc)
    decline_rules = _reasons_from_rules(policy, fired, "decline")
    refer_rules = _reasons_from_rules(policy, fired, "refer")

    def text(code: str) -> Reason:
        return Reason(code=code, text=policy.reason_text(code))

    if missing:
        # Incomplete: ask for the missing items; not a decline, no queue until they arrive.
        return Decision(outcome="refer", missing=missing, reasons=[text("INCOMPLETE_APPLICATION")], **base)

    def s_reasons() -> list[Reason]:
        # score reasons only explain declines and counteroffers: built on those paths only (same list)
        return score_reasons(policy, sc.max_points, result)

    if decline_rules:
        return Decision(outcome="decline", reasons=_merge(decline_rules, s_reasons()), **base)
    if grade in spec.grades.decline:
        return Decision(outcome="decline", reasons=_merge([text("SCORE_BELOW_CUTOFF")], s_reasons()), **base)
    if limit < spec.limits.min_amount:
        return Decision(outcome="decline", reasons=_merge([text("INSUFFICIENT_CAPACITY")], s_reasons()), **base)

    terms = spec.pricing.plan_terms
    grade_refer = grade in spec.grades.refer
    if limit < amount:
        offer = limit
        offer_plans = pricing.plans(offer, apr, terms)
        reasons = _merge([text("LIMIT_BELOW_REQUEST")], [text("DTI_OVER_CAP")] if binding == "dti" else [],
                         s_reasons())
        if refer_rules or grade_refer or offer > auth.auto_max:
            # a human decides; the counteroffer is the proposal on the table
            return Decision(outcome="refer", credit_limit=offer, plans=offer_plans,
                            counteroffer_amount=offer, counteroffer_term_months=inp.term_months,
                            refer_queue=queue_for(auth, offer), required_approvals=required_approvals(auth, offer),
                            reasons=_merge(refer_rules, reasons, limit=None), **base)
        return Decision(outcome="counteroffer", credit_limit=offer, plans=offer_plans, counteroffer_amount=offer,
                        counteroffer_term_months=inp.term_months, reasons=reasons, **base)

    offer_plans = pricing.plans(amount, apr, terms)
    if refer_rules or grade_refer or amount > auth.auto_max:
        reasons = list(refer_rules)
        if grade_refer:
            reasons.append(text("GRADE_REVIEW"))
        if amount > auth.auto_max and not any(r.code == "AMOUNT_ABOVE_AUTO_AUTHORITY" for r in reasons):
            reasons.append(text("AMOUNT_ABOVE_AUTO_AUTHORITY"))
        return Decision(outcome="refer", credit_limit=amount, plans=offer_plans, refer_queue=queue_for(auth, amount),
                        required_approvals=required_approvals(auth, amount), reasons=_merge(reasons, limit=None),
                        **base)
    return Decision(outcome="approve", credit_limit=amount, plans=offer_plans, **base)


def decide_many(inputs: list[DecisionInput], policy_path: Path | None = None) -> list[Decision]:
    return [decide(i, policy_path=policy_path) for i in inputs]


__all__ = ["decide", "canonical_sha256", "signal_facts", "score_reasons", "REPO_ROOT"]
