"""German Credit (UCI Statlog) rows translated into the vocabulary of our application.

Why a separate module: the scorecard may only use what our application form and documents
can tell us at run time, so training must see the dataset through exactly that lens. This
module is the single place where the dataset's DM bands and category strings are mapped to
the band labels that `creditflow.decision.scorecard` produces from a live application.
Protected attributes (age, personal status and sex, foreign worker) are NOT mapped; age is
returned separately and used only for the disparate-impact check in the model card. The
excluded columns are available raw (`load_excluded`) only to the feature ablation, which shows
in the model card what adding them would change.
"""

from __future__ import annotations

from collections.abc import Sequence
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

# Dataset columns that are protected attributes: never a feature of the shipped scorecard. The
# feature ablation (decision/ablation.py) may fit them only in its row labelled as not allowed.
PROTECTED: tuple[str, ...] = ("age_in_years", "personal_status_and_sex", "foreign_worker")

# Dataset column behind each shipped feature (checked against PROTECTED by the tests).
SOURCE_COLUMN: dict[str, str] = {
    "checking_balance": "status_of_existing_checking_account",
    "credit_history": "credit_history",
    "purpose": "purpose",
    "savings_balance": "savings_account_and_bonds",
    "employment_years": "present_employment_since",
    "housing": "housing",
    "term_months": "duration_in_month",
    "requested_amount": "credit_amount",
}

# Raw mapping of every EXCLUDED column for the feature ablation only: it has no run-time
# counterpart, so categories stay the dataset's strings and counts/bands stay numbers.
EXCLUDED_KIND: dict[str, str] = {
    "age_in_years": "numerical",
    "personal_status_and_sex": "categorical",
    "foreign_worker": "categorical",
    "installment_rate_in_percentage_of_disposable_income": "numerical",
    "number_of_existing_credits_at_this_bank": "numerical",
    "number_of_people_being_liable_to_provide_maintenance_for": "numerical",
    "other_debtors_or_guarantors": "categorical",
    "present_residence_since": "numerical",
    "property": "categorical",
    "other_installment_plans": "categorical",
    "job": "categorical",
    "telephone": "categorical",
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
    src = SOURCE_COLUMN
    x = pd.DataFrame({
        "checking_balance": raw[src["checking_balance"]].map(CHECKING),
        "credit_history": raw[src["credit_history"]].map(CREDIT_HISTORY),
        "purpose": raw[src["purpose"]].map(PURPOSE),
        "savings_balance": raw[src["savings_balance"]].map(SAVINGS),
        "employment_years": raw[src["employment_years"]].map(EMPLOYMENT),
        "housing": raw[src["housing"]].map(HOUSING),
        "term_months": raw[src["term_months"]].astype(float),
        "requested_amount": raw[src["requested_amount"]].astype(float),
    })
    if x.isna().any().any():
        bad = x.columns[x.isna().any()].tolist()
        raise ValueError(f"unmapped dataset categories in {bad}")
    y = (raw["creditability"] == "bad").astype(int)
    age = raw["age_in_years"].astype(int)
    return x[list(FEATURES)], y, age


def load_excluded(columns: Sequence[str], path: Path = DATASET_PATH) -> pd.DataFrame:
    """EXCLUDED dataset columns in their raw form (EXCLUDED_KIND), for the feature ablation only.

    Why separate from `load_dataset`: these columns must never reach the shipped scorecard, so
    they are not in its frame at all; the ablation joins them explicitly, column by column.
    """
    unknown = [c for c in columns if c not in EXCLUDED_KIND]
    if unknown:
        raise ValueError(f"not an excluded dataset column: {unknown}")
    raw = pd.read_csv(path)
    return pd.DataFrame({c: raw[c].astype(float) if EXCLUDED_KIND[c] == "numerical" else raw[c].astype(str)
                         for c in columns})
