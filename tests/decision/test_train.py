import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_train_writes_points_card_and_plots(tmp_path: Path) -> None:
    from creditflow.decision.scorecard import Scorecard
    from creditflow.decision.train import train

    rep = train(seed=42, out_dir=tmp_path)
    table = json.loads(rep.points_path.read_text())
    assert table["seed"] == 42 and table["feature_list"] == rep.features
    card = rep.card_path.read_text()
    for needle in ("CC BY 4.0", "age < 25", "Calibration", "Limitations", "protected", "Why AUC stays below"):
        assert needle.lower() in card.lower()
    assert all(p.exists() and p.stat().st_size > 1000 for p in rep.plots)
    # deterministic: the same seed gives the shipped table's points
    shipped = Scorecard.load()
    fresh = Scorecard.load(rep.points_path)
    assert fresh.max_points == pytest.approx(shipped.max_points)
