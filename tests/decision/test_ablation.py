"""Protected attributes stay out of the scorecard, and out of the feature ablation except its labelled row."""

import json
from pathlib import Path

import numpy as np
import pytest

from creditflow.config import REPO_ROOT
from creditflow.decision import ablation, german, model_card, train
from creditflow.decision.ablation import INFO_LABEL, SHIPPED_LABEL, Variant


def test_shipped_features_contain_no_protected_attribute() -> None:
    assert set(german.PROTECTED) == {"age_in_years", "personal_status_and_sex", "foreign_worker"}
    assert not set(german.FEATURES) & set(german.PROTECTED)
    # by their dataset source too, not only by our names
    assert set(german.SOURCE_COLUMN) == set(german.FEATURES)
    assert not set(german.SOURCE_COLUMN.values()) & set(german.PROTECTED)
    assert set(german.PROTECTED) <= set(german.EXCLUDED)
    x, _, _ = german.load_dataset()
    assert list(x.columns) == list(german.FEATURES)
    shipped = json.loads((REPO_ROOT / "models" / "scorecard" / "points.json").read_text())
    assert shipped["feature_list"] == list(german.FEATURES)
    assert {f["name"] for f in shipped["features"]} == set(german.FEATURES)
    assert shipped["protected_attributes_excluded"] == list(german.PROTECTED)


def test_every_excluded_column_has_a_raw_kind_and_loads_raw() -> None:
    assert set(german.EXCLUDED_KIND) == set(german.EXCLUDED)
    raw = german.load_excluded(["property", "present_residence_since"])
    assert raw["property"].iloc[0] == "real estate"  # dataset string as it is
    assert raw["present_residence_since"].dtype == np.float64
    with pytest.raises(ValueError, match="not an excluded"):
        german.load_excluded(["credit_history"])


def test_protected_attributes_appear_only_in_the_labelled_information_row() -> None:
    rows = ablation.variants()
    with_protected = [v for v in rows if set(v.added) & set(german.PROTECTED)]
    assert [(v.label, v.allowed, v.added) for v in with_protected] == [(INFO_LABEL, False, german.PROTECTED)]
    assert [v for v in rows if not v.allowed] == with_protected
    unused = ablation.unused_allowed()
    assert set(unused) == set(german.EXCLUDED) - set(german.PROTECTED)
    singles = {v.added[0] for v in rows if len(v.added) == 1}
    assert singles == set(unused)
    assert any(v.added == unused and v.allowed for v in rows)
    assert rows[0] == Variant(SHIPPED_LABEL, ())


@pytest.mark.parametrize("label,added,allowed", [
    ("+ age_in_years", ("age_in_years",), True),
    ("+ property", ("property", "foreign_worker"), True),
    (INFO_LABEL, german.PROTECTED, True),  # the right label is not enough: it must be marked not allowed
    ("+ protected", german.PROTECTED, False),  # not allowed but unlabelled
    (INFO_LABEL, ("property",), False),  # only protected attributes belong in the information row
    ("+ credit_history", ("credit_history",), True),  # not an excluded column
])
def test_variant_refuses_protected_or_unknown_columns_outside_the_information_row(
        label: str, added: tuple[str, ...], allowed: bool) -> None:
    with pytest.raises(ValueError):
        Variant(label, added, allowed)


def test_pipeline_refuses_protected_features_unless_asked_by_the_information_row() -> None:
    x, y, _ = german.load_dataset()
    wide = x.join(german.load_excluded(["age_in_years"]))
    feats = list(german.FEATURES) + ["age_in_years"]
    with pytest.raises(ValueError, match="protected"):
        train._pipeline(wide, y, feats)
    with pytest.raises(ValueError, match="protected"):
        train._oof(2, 42, (wide, y), feats)


def test_tiny_ablation_uses_the_shipped_pipeline_and_labels_the_protected_row(tmp_path: Path) -> None:
    info = Variant(INFO_LABEL, german.PROTECTED, allowed=False)
    result = ablation.run(folds=2, seeds=(42,), selected=[Variant(SHIPPED_LABEL, ()), info])
    shipped_row, info_row = result["rows"]
    # the shipped row is exactly the training pipeline's CV for the same folds and seed
    _, aucs, _ = train._oof(2, 42)
    assert shipped_row["per_seed"][0]["auc"] == pytest.approx(float(np.mean(aucs)), abs=1e-6)
    assert (info_row["label"], info_row["allowed"], info_row["added"]) == (INFO_LABEL, False,
                                                                           list(german.PROTECTED))
    assert 0.5 < info_row["auc_mean"] < 1.0

    summary = ablation.summarise(result)
    assert summary["best_allowed"] is None and summary["info"]["label"] == INFO_LABEL
    lines: list[str] = []
    model_card._ablation_section(lines.append, summary)
    info_lines = [ln for ln in lines if "age_in_years" in ln and ln.startswith("|")]
    assert len(info_lines) == 1 and INFO_LABEL in info_lines[0] and "information only" in info_lines[0]

    # a stored result is re-used only while its inputs match
    ablation.save(result, tmp_path)
    assert ablation.load(tmp_path, folds=2, seeds=(42,)) == result
    assert ablation.load(tmp_path, folds=5, seeds=(42,)) is None
    stale = json.loads((tmp_path / ablation.RESULT_FILE).read_text())
    stale["fingerprint"]["dataset_sha256"] = "0" * 64
    ablation.save(stale, tmp_path)
    assert ablation.load(tmp_path, folds=2, seeds=(42,)) is None


def test_card_says_how_to_get_the_ablation_when_it_is_missing() -> None:
    lines: list[str] = []
    model_card._ablation_section(lines.append, None)
    assert "Why AUC stays below 0.80" in lines[0]
    assert any("creditflow model train --ablation" in ln for ln in lines)
