"""Dealer working-capital decisions with an expert scorecard (models/scorecard/dealer_expert.yml).

Why expert and not trained: there are no dealer outcomes to learn from, and a model fitted
on invented data would only launder guesses. The card's weights are documented judgement,
versioned and hashed like policy. It claims no probability of default (pd is None).
The limit is a grade-dependent share of documented monthly revenue, capped so that leverage
after the loan stays under the policy maximum, and by the debt-service cap.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from creditflow.config import REPO_ROOT
from creditflow.decision import pricing
from creditflow.decision.contract import Decision, DecisionInput, ScoreItem
from creditflow.decision.crosscheck import crosscheck_dealer, registration_mismatch, to_float
from creditflow.decision.policy import (POLICY_DIR, PRODUCT_FILES, PolicyError, load_policy_cached)
from creditflow.decision.scorecard import ScoreResult

MODELS_DIR = REPO_ROOT / "models"


class ExpertScorecard:
    """Banded points per characteristic; same interface as `Scorecard` where the engine needs it."""

    def __init__(self, spec: dict[str, Any], sha256: str) -> None:
        self.spec = spec
        self.sha256 = sha256
        self.version = str(spec["version"])
        self.chars: list[dict[str, Any]] = list(spec["characteristics"])
        if not self.chars:
            raise PolicyError("expert scorecard without characteristics")
        self.max_points: dict[str, float] = {}
        for c in self.chars:
            if "bands" in c:
                uppers = [b["upper"] for b in c["bands"]]
                if uppers[-1] is not None or any(u is None for u in uppers[:-1]) or uppers[:-1] != sorted(uppers[:-1]):
                    raise PolicyError(f"{c['name']}: bands must be ascending and end open")
                pts = [float(b["points"]) for b in c["bands"]]
            else:
                pts = [float(v) for v in c["categories"].values()]
            self.max_points[c["name"]] = max(pts + [float(c["missing"])])
        self.grades = [(g["grade"], g["min_score"]) for g in spec["grades"]]
        self.known_anchors = {a.casefold() for a in spec.get("known_anchor_partners", [])}

    @classmethod
    def load(cls, path: Path) -> "ExpertScorecard":
        raw = Path(path).read_bytes()
        return cls(yaml.safe_load(raw), hashlib.sha256(raw).hexdigest())

    def grade(self, score: float) -> str:
        for g, min_score in self.grades:
            if min_score is None or score >= min_score:
                return g
        return self.grades[-1][0]

    def score(self, features: dict[str, Any]) -> ScoreResult:
        total = 0.0
        items = []
        for c in self.chars:
            v = features.get(c["name"])
            label, pts = "missing", float(c["missing"])
            if v is not None:
                if "bands" in c:
                    for b in c["bands"]:
                        if b["upper"] is None or float(v) < float(b["upper"]):
                            label = f"< {b['upper']}" if b["upper"] is not None else "top band"
                            pts = float(b["points"])
                            break
                elif str(v) in c["categories"]:
                    label, pts = str(v), float(c["categories"][str(v)])
            total += pts
            items.append(ScoreItem(feature=c["name"], value=v, bin=label, points=pts))
        return ScoreResult(score=total, pd=float("nan"), items=items)


@lru_cache(maxsize=8)
def _expert(path: str, mtime_ns: int) -> ExpertScorecard:
    return ExpertScorecard.load(Path(path))


def _doc(inp: DecisionInput, doc_type: str) -> dict[str, Any]:
    d = next((d for d in inp.documents if d.doc_type == doc_type), None)
    return d.fields if d else {}


def _statements_by_period(inp: DecisionInput) -> list[dict[str, Any]]:
    """Financial statements oldest first (by period_end; undated ones count as oldest)."""
    docs = [d.fields for d in inp.documents if d.doc_type == "financial_statement"]
    return sorted(docs, key=lambda f: str(f.get("period_end") or ""))


def revenue_trend(inp: DecisionInput) -> float | None:
    """Relative revenue change between the two latest periods, when two statements were given."""
    periods = [to_float(f.get("revenue")) for f in _statements_by_period(inp)]
    periods = [r for r in periods if r is not None and r > 0]
    if len(periods) < 2:
        return None
    return round((periods[-1] - periods[-2]) / periods[-2], 4)


def dealer_features(inp: DecisionInput, known_anchors: set[str]) -> dict[str, Any]:
    a = inp.applicant
    statements = _statements_by_period(inp)
    fs, bank = (statements[-1] if statements else {}), _doc(inp, "bank_statement")
    revenue_doc = to_float(fs.get("revenue"))
    assets, liabilities = to_float(fs.get("total_assets")), to_float(fs.get("total_liabilities"))
    net_income = to_float(fs.get("net_income"))
    stated = float(a.get("annual_revenue") or 0.0)
    revenue = revenue_doc if revenue_doc and revenue_doc > 0 else stated
    deposits = to_float(bank.get("total_deposits"))
    nsf = to_float(bank.get("nsf_count"))
    anchor = str(a.get("anchor_partner") or "").strip().casefold()
    return {
        "leverage": round(liabilities / assets, 4) if assets and liabilities is not None else None,
        "net_margin": round(net_income / revenue_doc, 4) if revenue_doc and net_income is not None else None,
        "years_in_business": float(a.get("years_in_business") or 0.0),
        "annual_revenue": revenue,
        "cash_flow": round(deposits / (revenue / 12), 4) if deposits is not None and revenue > 0 else None,
        "nsf_count": nsf,
        # cash-flow proxy shown to the officer (not scored): mean of opening and closing balance
        "average_balance": (round((opening + closing) / 2, 2)
                            if (opening := to_float(bank.get("opening_balance"))) is not None
                            and (closing := to_float(bank.get("closing_balance"))) is not None else None),
        "anchor_partner": ("known" if anchor in known_anchors else "unknown") if anchor else None,
        # shown to the officer and read by policy rules; not in the expert score
        "revenue_trend": revenue_trend(inp),
        "revenue_periods": len(statements),
        "stated_annual_revenue": stated,
        "documented_annual_revenue": revenue_doc,
        "total_assets": assets,
        "total_liabilities": liabilities,
        "monthly_debt_payments": float(a.get("monthly_debt_payments") or 0.0),
        "requested_amount": float(inp.requested_amount),
        "term_months": float(inp.term_months),
    }


def decide_dealer(inp: DecisionInput, policy_path: Path | None = None, scorecard_path: Path | None = None) -> Decision:
    from creditflow.decision.engine import _outcome, _rule_hits, canonical_sha256, signal_facts

    policy = load_policy_cached(policy_path or POLICY_DIR / PRODUCT_FILES["dealer_working_capital"])
    if policy.product != "dealer_working_capital":
        raise ValueError(f"policy {policy.path} is not a dealer policy")
    spec = policy.spec
    sc_path = scorecard_path or MODELS_DIR / (spec.scorecard or "scorecard/dealer_expert.yml")
    sc = _expert(str(sc_path), os.stat(sc_path).st_mtime_ns)
    cc = crosscheck_dealer(inp, spec.crosscheck)
    features = dealer_features(inp, sc.known_anchors)
    result = sc.score(features)
    grade = sc.grade(result.score)
    apr = spec.pricing.apr_by_grade[grade]
    monthly_revenue = features["annual_revenue"] / 12
    debt = features["monthly_debt_payments"]
    installment = pricing.monthly_installment(inp.requested_amount, apr, inp.term_months)
    dti = (debt + installment) / monthly_revenue if monthly_revenue > 0 else 99.0
    dti_existing = debt / monthly_revenue if monthly_revenue > 0 else 99.0
    limit, binding = pricing.credit_limit(
        requested=inp.requested_amount, income=monthly_revenue, existing_debt=debt,
        multiplier=spec.limits.grade_multiplier[grade], dti_cap=spec.limits.dti_cap, apr=apr,
        term_months=inp.term_months, round_to=spec.limits.round_down_to)
    cap = spec.limits.max_leverage_after
    assets, liabilities = features["total_assets"], features["total_liabilities"]
    if cap is not None and assets and liabilities is not None:
        # (L + x) / (A + x) <= cap  <=>  x <= (cap*A - L) / (1 - cap)
        lev_room = (cap * assets - liabilities) / (1 - cap) if cap < 1 else float("inf")
        if lev_room < limit:
            limit, binding = pricing.round_down(max(lev_room, 0.0), spec.limits.round_down_to), "leverage"
    features["dti"] = round(dti, 4)
    features["dti_existing"] = round(dti_existing, 4)
    facts: dict[str, Any] = {
        "requested_amount": float(inp.requested_amount), "term_months": float(inp.term_months),
        "auto_max": spec.authority.auto_max, "score": result.score, "pd": 0.0, "grade": grade,
        "dti": dti, "dti_existing": dti_existing, "dti_cap": spec.limits.dti_cap,
        "name_mismatch": cc.name_mismatch, "name_match_score": cc.name_match_score,
        "dates_implausible": cc.dates_implausible, "unreadable_documents": float(len(cc.unreadable_documents)),
        "missing_fields_count": float(len(cc.missing_fields)), "nsf_count": float(features["nsf_count"] or 0),
        "monthly_debt_payments": debt,
        "years_in_business": features["years_in_business"], "annual_revenue": features["stated_annual_revenue"],
        "documented_revenue": float(features["documented_annual_revenue"] or 0.0),
        "revenue_diff_pct": float(cc.income.diff_pct or 0.0),
        "revenue_tolerance": float(spec.crosscheck.get("revenue_tolerance", 0.10)),
        "leverage": float(features["leverage"] if features["leverage"] is not None else 0.0),
        "net_margin": float(features["net_margin"] if features["net_margin"] is not None else 0.0),
        "anchor_partner_known": features["anchor_partner"] == "known",
        "license_number_mismatch": registration_mismatch(inp),
        "revenue_trend": float(features["revenue_trend"] if features["revenue_trend"] is not None else 0.0),
        "revenue_periods": float(features["revenue_periods"]),
        **signal_facts(inp.signals),
    }
    fired = policy.evaluate(facts)
    crosscheck = cc.model_dump(mode="json")
    crosscheck["limit_binding_constraint"] = binding
    crosscheck["license_number_mismatch"] = facts["license_number_mismatch"]
    base: dict[str, Any] = dict(
        grade=grade, score=result.score, pd=None, currency=inp.currency, rules_fired=_rule_hits(fired),
        score_breakdown=result.items, crosscheck=crosscheck, authority=policy.authority,
        policy_version=policy.sha256, model_version=sc.sha256, features=features,
        features_sha256=canonical_sha256(features), inputs_sha256=canonical_sha256(inp.model_dump(mode="json")),
    )
    return _outcome(inp, policy, sc, result, grade, apr, limit, binding, fired, cc, base)
