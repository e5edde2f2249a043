"""Feature ablation: does any dataset attribute our form does not collect lift the scorecard's AUC?

Why: issue #11 targets CV AUC >= 0.80 and the shipped scorecard stays below it. Whether that is
the price of the 8-feature restriction (only what the application form and documents provide) or
the limit of the data is a question with a measurable answer, so the training run measures it and
the model card prints the table instead of a claim. Every row cross-validates the SAME pipeline
as the shipped scorecard (`train._oof` / `train._pipeline`, binning + regression refit per fold),
only with a longer feature list, over several CV seeds because single-seed differences of a few
thousandths are noise.

Protected attributes (german.PROTECTED) appear in exactly one row, labelled INFO_LABEL and marked
not allowed; `Variant` refuses them anywhere else and the pipeline refuses them unless that row
asks. The row is there so the card can say how much of the gap to 0.80 they would explain.

Slow (~300 fits): run with `creditflow model train --ablation`; results are stored in
`ablation.json` beside points.json and re-used by plain training while the inputs are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditflow.decision import train as training
from creditflow.decision.german import (CATEGORICAL, DATASET_PATH, EXCLUDED, EXCLUDED_KIND, FEATURES, PROTECTED,
                                        load_dataset, load_excluded)

SEEDS: tuple[int, ...] = (42, 0, 1, 2, 3)
INFO_LABEL = "not allowed: protected attributes"
SHIPPED_LABEL = "shipped (8 form features)"
ALL_UNUSED_LABEL = "+ all unused non-protected"
RESULT_FILE = "ablation.json"
# Mean AUC gain (paired over SEEDS) below which an added attribute is called immaterial: the
# seed-to-seed spread of a 1,000-row 5-fold CV is of this order.
MATERIAL_GAIN = 0.005
TARGET_AUC = 0.80


@dataclass(frozen=True)
class Variant:
    """One row of the ablation: the shipped features plus `added` excluded dataset columns."""

    label: str
    added: tuple[str, ...]
    allowed: bool = True

    def __post_init__(self) -> None:
        unknown = [c for c in self.added if c not in EXCLUDED]
        if unknown:
            raise ValueError(f"not an excluded dataset column: {unknown}")
        protected = [c for c in self.added if c in PROTECTED]
        if protected and (self.allowed or self.label != INFO_LABEL):
            raise ValueError(f"protected attributes {protected} may only appear in the row labelled "
                             f"{INFO_LABEL!r} and marked not allowed")
        if not self.allowed and (self.label != INFO_LABEL or not protected):
            raise ValueError(f"only the {INFO_LABEL!r} row with protected attributes is marked not allowed")

    @property
    def features(self) -> list[str]:
        return list(FEATURES) + list(self.added)

    @property
    def categorical(self) -> list[str]:
        return list(CATEGORICAL) + [c for c in self.added if EXCLUDED_KIND[c] == "categorical"]


def unused_allowed() -> tuple[str, ...]:
    """Excluded dataset columns that are not protected: the candidates the form could collect."""
    return tuple(c for c in EXCLUDED if c not in PROTECTED)


def variants() -> list[Variant]:
    """Shipped, shipped + each unused non-protected column, shipped + all of them, information row."""
    unused = unused_allowed()
    return ([Variant(SHIPPED_LABEL, ())]
            + [Variant(f"+ {c}", (c,)) for c in unused]
            + [Variant(ALL_UNUSED_LABEL, unused)]
            + [Variant(INFO_LABEL, PROTECTED, allowed=False)])


def fingerprint(seeds: tuple[int, ...], folds: int) -> dict[str, Any]:
    """Everything the ablation's numbers depend on; a stored result is re-used only if this matches."""
    from importlib.metadata import version

    return {"dataset_sha256": hashlib.sha256(DATASET_PATH.read_bytes()).hexdigest(),
            "features": list(FEATURES), "categorical": list(CATEGORICAL), "excluded_kind": EXCLUDED_KIND,
            "binning_fit_params": training.BINNING_FIT_PARAMS, "min_prebin_size": training.MIN_PREBIN_SIZE,
            "lr_c": training.LR_C, "seeds": list(seeds), "folds": folds,
            "variants": [[v.label, list(v.added), v.allowed] for v in variants()],
            "optbinning": version("optbinning"), "scikit-learn": version("scikit-learn")}


def run(folds: int = 5, seeds: tuple[int, ...] = SEEDS, selected: list[Variant] | None = None) -> dict[str, Any]:
    """Cross-validate each variant over `seeds` with the shipped pipeline; JSON-ready result."""
    chosen = variants() if selected is None else selected
    x, y, _ = load_dataset()
    columns = sorted({c for v in chosen for c in v.added})
    wide = pd.concat([x, load_excluded(columns)], axis=1) if columns else x
    rows = []
    for v in chosen:
        per_seed = []
        for seed in seeds:
            _, aucs, kss = training._oof(folds, seed, (wide, y), v.features, v.categorical,
                                         allow_protected=not v.allowed)
            per_seed.append({"seed": seed, "auc": round(float(np.mean(aucs)), 6),
                             "ks": round(float(np.mean(kss)), 6)})
        rows.append({"label": v.label, "added": list(v.added), "allowed": v.allowed, "per_seed": per_seed,
                     "auc_mean": round(float(np.mean([s["auc"] for s in per_seed])), 6),
                     "ks_mean": round(float(np.mean([s["ks"] for s in per_seed])), 6)})
    return {"fingerprint": fingerprint(seeds, folds), "rows": rows}


def save(result: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / RESULT_FILE
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def load(out_dir: Path, folds: int = 5, seeds: tuple[int, ...] = SEEDS) -> dict[str, Any] | None:
    """The stored result if it was computed from the current data, features and pipeline, else None."""
    path = out_dir / RESULT_FILE
    if not path.exists():
        return None
    result: dict[str, Any] = json.loads(path.read_text())
    if result.get("fingerprint") != json.loads(json.dumps(fingerprint(seeds, folds))):
        return None
    return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Deltas against the shipped row (paired per seed) and the verdicts the card states."""
    rows = result["rows"]
    shipped = next(r for r in rows if r["label"] == SHIPPED_LABEL)
    base = {s["seed"]: s["auc"] for s in shipped["per_seed"]}
    out_rows = []
    for r in rows:
        deltas = [s["auc"] - base[s["seed"]] for s in r["per_seed"]]
        out_rows.append({**r, "delta_mean": float(np.mean(deltas)), "delta_min": float(min(deltas)),
                         "delta_max": float(max(deltas))})
    allowed = [r for r in out_rows if r["allowed"] and r["label"] != SHIPPED_LABEL]
    best = max(allowed, key=lambda r: r["auc_mean"], default=None)
    info = [r for r in out_rows if not r["allowed"]]
    every_unused = next((r for r in out_rows if r["label"] == ALL_UNUSED_LABEL), None)
    return {"rows": out_rows, "shipped": next(r for r in out_rows if r["label"] == SHIPPED_LABEL),
            "best_allowed": best, "all_unused": every_unused, "info": info[0] if info else None,
            "allowed_reaches_target": any(r["auc_mean"] >= TARGET_AUC for r in allowed),
            "restriction_costs_nothing": best is not None and best["delta_mean"] < MATERIAL_GAIN,
            "seeds": result["fingerprint"]["seeds"], "folds": result["fingerprint"]["folds"]}
