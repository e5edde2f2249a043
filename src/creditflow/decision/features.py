"""Features a decision may use, built from the application and its documents.

Why one builder: the scorecard and the policy must see the same, recorded numbers, and no
protected attribute may slip in. The builder whitelists what it copies from the applicant;
name, date of birth and contact details never become features (the date of birth only feeds
the legal-capacity check in crosscheck.py).
"""

from __future__ import annotations

from typing import Any

from creditflow.decision.contract import DecisionInput
from creditflow.decision.crosscheck import CrossCheck, to_float

# Applicant fields a consumer decision may read as features (whitelist).
CONSUMER_FIELDS: tuple[str, ...] = ("employment_status", "employment_years", "monthly_income",
                                    "monthly_debt_payments", "housing", "checking_balance",
                                    "savings_balance", "credit_history", "existing_credits")


def documented_overdraft(inp: DecisionInput) -> float | None:
    """The lowest negative closing balance on a bank statement (the application form cannot state one)."""
    worst = None
    for d in inp.documents:
        if d.doc_type == "bank_statement":
            v = to_float(d.fields.get("closing_balance"))
            if v is not None and v < 0 and (worst is None or v < worst):
                worst = v
    return worst


def consumer_features(inp: DecisionInput, cc: CrossCheck) -> dict[str, Any]:
    a = {k: inp.applicant.get(k) for k in CONSUMER_FIELDS}
    checking = a["checking_balance"]
    overdraft = documented_overdraft(inp)
    if overdraft is not None:
        checking = overdraft
    employed = a["employment_status"] != "unemployed"
    stated = float(a["monthly_income"] or 0.0)
    verified = cc.income.verified
    return {
        # scorecard inputs (application domain; banding in points.json)
        "checking_balance": None if checking is None else float(checking),
        "credit_history": a["credit_history"],
        "purpose": inp.purpose,
        "savings_balance": float(a["savings_balance"] or 0.0),
        "employment_years": float(a["employment_years"] or 0.0) if employed else None,
        "housing": a["housing"],
        "term_months": float(inp.term_months),
        "requested_amount": float(inp.requested_amount),
        # affordability inputs
        "employment_status": a["employment_status"],
        "existing_credits": int(a["existing_credits"] or 0),
        "stated_monthly_income": stated,
        "verified_monthly_income": verified,
        # income used for limits: the lower of stated and documented (never more than verified)
        "monthly_income": min(stated, verified) if verified is not None else stated,
        "monthly_debt_payments": float(a["monthly_debt_payments"] or 0.0),
    }
