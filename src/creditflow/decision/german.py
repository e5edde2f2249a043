"""German Credit (UCI Statlog) rows translated into the vocabulary of our application.

Why a separate module: the scorecard may only use what our application form and documents
can tell us at run time, so training must see the dataset through exactly that lens. This
module is the single place where the dataset's DM bands and category strings are mapped to
the band labels that `creditflow.decision.scorecard` produces from a live application.
Protected attributes (age, personal status and sex, foreign worker) are NOT mapped; age is
returned separately and used only for the disparate-impact check in the model card.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from creditflow.config import REPO_ROOT

DATASET_PATH = REPO_ROOT / "models" / "scorecard" / "data" / "germancredit.csv"
DATASET_NAME = "german_credit"

# Columns used by the scorecard (our names) and their kind.
CATEGORICAL: tuple[str, ...] = ("checking_balance", "credit_history", "purpose", "savings_balance",
                                "employment_years", "housing")
NUMERICAL: tuple[str, ...] = ("term_months", "requested_amount")
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERICAL

# Dataset columns deliberately not used, with the reason (recorded in points.json and the card).
EXCLUDED: dict[str, str] = {
    "age_in_years": "protected attribute (age); used only for the disparate-impact check",
    "personal_status_and_sex": "protected attribute (sex, marital status)",
    "foreign_worker": "protected attribute (national origin)",
    "installment_rate_in_percentage_of_disposable_income": "coding of the 1-4 bands is disputed "
    "(Groemping 2019) and our form has no disposable-income figure to map it honestly",
    "number_of_existing_credits_at_this_bank": "counts credits at the lender only; ours counts all credits",
    "number_of_people_being_liable_to_provide_maintenance_for": "dependents proxy with no signal (IV<0.001)",
    "other_debtors_or_guarantors": "not collected on our application form",
    "present_residence_since": "not collected on our application form",
    "property": "not collected on our application form",
    "other_installment_plans": "not collected on our application form",
    "job": "not collected on our application form",
    "telephone": "not collected on our application form",
    # tried and dropped: amount/term as a derived feature (CV AUC 0.785 vs 0.787 without it)
}

CHECKING = {
    "no checking account": "none",
    "... < 0 DM": "lt_0",
    "0 <= ... < 200 DM": "0_to_200",
    "... >= 200 DM / salary assignments for at least 1 year": "ge_200",
}
CREDIT_HISTORY = {
    "no credits taken/ all credits paid back duly": "no_credits",
    "all credits at this bank paid back duly": "all_paid",
    "existing credits paid back duly till now": "existing_paid",
    "delay in paying off in the past": "delayed_before",
    "critical account/ other credits existing (not at this bank)": "critical",
}
PURPOSE = {
    "car (new)": "car_new", "car (used)": "car_used", "furniture/equipment": "furniture",
    "radio/television": "electronics", "domestic appliances": "appliances", "repairs": "repairs",
    "education": "education", "retraining": "retraining", "business": "business", "others": "other",
}
SAVINGS = {
    "... < 100 DM": "lt_100",
    "100 <= ... < 500 DM": "100_to_500",
    "500 <= ... < 1000 DM": "500_to_1000",
    "... >= 1000 DM": "ge_1000",
    # "unknown" never arises at run time (savings_balance is a required number); kept as its own
    # band so it does not dilute the others.
    "unknown/ no savings account": "unknown",
}
EMPLOYMENT = {
    "unemployed": "unemployed",
    "... < 1 year": "lt_1",
    "1 <= ... < 4 years": "1_to_4",
    "4 <= ... < 7 years": "4_to_7",
    "... >= 7 years": "ge_7",
}
HOUSING = {"own": "own", "rent": "rent", "for free": "free"}


def load_dataset(path: Path = DATASET_PATH) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Return (X in our feature vocabulary, y with 1 = bad, age for the disparate-impact check only)."""
    raw = pd.read_csv(path)
    x = pd.DataFrame({
        "checking_balance": raw["status_of_existing_checking_account"].map(CHECKING),
        "credit_history": raw["credit_history"].map(CREDIT_HISTORY),
        "purpose": raw["purpose"].map(PURPOSE),
        "savings_balance": raw["savings_account_and_bonds"].map(SAVINGS),
        "employment_years": raw["present_employment_since"].map(EMPLOYMENT),
        "housing": raw["housing"].map(HOUSING),
        "term_months": raw["duration_in_month"].astype(float),
        "requested_amount": raw["credit_amount"].astype(float),
    })
    if x.isna().any().any():
        bad = x.columns[x.isna().any()].tolist()
        raise ValueError(f"unmapped dataset categories in {bad}")
    y = (raw["creditability"] == "bad").astype(int)
    age = raw["age_in_years"].astype(int)
    return x[list(FEATURES)], y, age
