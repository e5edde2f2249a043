"""The model card's nested-CV tuning section: rendered from data, verdicts computed, stored study sane."""

import copy
from typing import Any

import pytest

from creditflow.decision import model_card
from creditflow.decision.ablation import MATERIAL_GAIN, TARGET_AUC
from creditflow.decision.train import SCORECARD_DIR


def _study(best_nested: float = 0.791, best_delta: float = 0.0003) -> dict[str, Any]:
    return {
        "command": ".venv/bin/python benchmarks/scorecard_tuning.py --seeds 42,0",
        "date": "2026-11-25",
        "outer_seeds": [42, 0],
        "shipped": {"auc_mean": 0.7926, "ks_mean": 0.5039},
        "candidates": [
            {"label": f"cand {i}", "auc_mean": 0.79 - i / 1000, "ks_mean": 0.5, "delta_mean": -i / 1000,
             "delta_min": -i / 500, "delta_max": 0.001}
            for i in range(1, 11)
        ] + [{"label": "best fixed", "auc_mean": 0.7929, "ks_mean": 0.505, "delta_mean": best_delta,
              "delta_min": -0.0003, "delta_max": 0.0016}],
        "nested": [
            {"grid": "LR grid", "auc_mean": best_nested, "auc_min": 0.783, "auc_max": 0.801, "ks_mean": 0.50,
             "most_picked": "best fixed", "picked_count": 7, "folds": 10},
            {"grid": "binning grid", "auc_mean": 0.788, "auc_min": 0.776, "auc_max": 0.797, "ks_mean": 0.49,
             "most_picked": "cand 1", "picked_count": 5, "folds": 10},
        ],
        "not_run": ["B prebin 0.02/40"],
    }


def _render(data: dict[str, Any] | None) -> str:
    lines: list[str] = []
    model_card._tuning_section(lines.append, data)
    return "\n".join(lines)


def test_section_renders_tables_and_verdicts_below_target() -> None:
    text = _render(_study())
    assert "## Tuning the pipeline settings (nested CV)" in text
    assert "| LR grid | 0.7910 (0.7830 .. 0.8010) | 0.5000 | best fixed (7 of 10) |" in text
    assert "seeds 42, 0" in text and "--seeds 42,0" in text and "2026-11-25" in text
    # top candidates: at most 8 rows, best delta first
    rows = [ln for ln in text.splitlines() if ln.startswith("| best fixed") or ln.startswith("| cand ")]
    assert len(rows) == model_card.TUNING_TOP_ROWS == 8
    assert rows[0].startswith("| best fixed | 0.7929")
    assert "cand 8 |" not in text  # 9th-best and beyond are cut
    assert f"No grid reaches AUC {TARGET_AUC:.2f} under nested CV" in text
    assert "`LR grid`, averages 0.7910, 0.0090 short" in text
    assert "Every grid's nested mean is below the fixed shipped setting's 0.7926" in text
    assert f"below the {MATERIAL_GAIN} this card counts as a material gain" in text
    assert "**Conclusion:** none of the settings studied reaches AUC 0.80" in text
    assert "B prebin 0.02/40" in text


def test_verdicts_flip_when_a_nested_mean_crosses_the_target() -> None:
    text = _render(_study(best_nested=TARGET_AUC + 0.001))
    assert "No grid reaches" not in text
    assert f"1 of 2 grids reach AUC {TARGET_AUC:.2f} under nested CV" in text
    assert "1 of 2 grids match or beat the fixed shipped setting's 0.7926" in text
    assert f"**Conclusion:** a tuned pipeline reaches AUC {TARGET_AUC:.2f} under nested CV (`LR grid`)" in text
    # just below the target: back to the negative verdict
    assert "No grid reaches" in _render(_study(best_nested=TARGET_AUC - 0.0001))


def test_material_fixed_gain_changes_the_conclusion() -> None:
    text = _render(_study(best_delta=MATERIAL_GAIN + 0.001))
    assert f"at least the {MATERIAL_GAIN} this card counts as a material gain" in text
    assert "but `best fixed` lifts the repeated-CV mean by +0.0060" in text


def test_section_without_a_stored_study_says_how_to_produce_it() -> None:
    text = _render(None)
    assert "No tuning study is stored" in text and "benchmarks/scorecard_tuning.py" in text


def test_input_is_not_mutated() -> None:
    data = _study()
    before = copy.deepcopy(data)
    _render(data)
    assert data == before


def test_committed_tuning_json_is_well_formed() -> None:
    data = model_card.load_tuning(SCORECARD_DIR)
    assert data is not None, "models/scorecard/tuning.json is missing"
    assert set(data) >= {"command", "date", "outer_seeds", "shipped", "candidates", "nested", "not_run"}
    assert data["command"].startswith(".venv/bin/python benchmarks/scorecard_tuning.py --seeds ")
    assert data["command"].endswith(",".join(str(s) for s in data["outer_seeds"]))
    assert set(data["shipped"]) >= {"auc_mean", "ks_mean"}
    labels = [c["label"] for c in data["candidates"]]
    assert labels and len(labels) == len(set(labels))
    for c in data["candidates"]:
        assert set(c) >= {"label", "auc_mean", "ks_mean", "delta_mean", "delta_min", "delta_max"}
        assert c["delta_min"] <= c["delta_mean"] <= c["delta_max"]
        assert c["auc_mean"] - data["shipped"]["auc_mean"] == pytest.approx(c["delta_mean"], abs=2e-6)
    assert data["nested"]
    for r in data["nested"]:
        assert set(r) >= {"grid", "auc_mean", "auc_min", "auc_max", "ks_mean", "most_picked", "picked_count",
                          "folds"}
        for key in ("auc_mean", "auc_min", "auc_max"):
            assert 0.5 <= r[key] <= 1.0
        assert r["auc_min"] <= r["auc_mean"] <= r["auc_max"]
        assert 0 < r["picked_count"] <= r["folds"] == 5 * len(data["outer_seeds"])
