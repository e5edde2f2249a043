"""Run-time scorecard: reads only the points table (models/scorecard/points.json).

Why no ML import here: scoring must be cheap (thousands per second), auditable (every point
comes from a visible bin) and identical on every worker; the table is data with a sha256 that
goes into each decision as `model_version`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditflow.config import REPO_ROOT
from creditflow.decision.contract import ScoreItem

DEFAULT_POINTS = REPO_ROOT / "models" / "scorecard" / "points.json"


@dataclass(frozen=True)
class ScoreResult:
    score: float
    pd: float
    items: list[ScoreItem]


@dataclass(frozen=True)
class _Bin:
    label: str
    points: float
    lower: float | None = None
    upper: float | None = None
    categories: frozenset[str] = frozenset()


class _Feature:
    """One scorecard characteristic: banding of the raw application value, then bin lookup."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.name: str = spec["name"]
        self.kind: str = spec["kind"]
        if self.kind not in ("numerical", "categorical"):
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        self.banding: dict[str, Any] | None = spec.get("banding")
        self.missing_points = float(spec["missing_points"])
        self.bins = [_Bin(label=b["label"], points=float(b["points"]), lower=b.get("lower"),
                          upper=b.get("upper"), categories=frozenset(b.get("categories", ())))
                     for b in spec["bins"]]
        if not self.bins:
            raise ValueError(f"{self.name}: no bins")
        self.max_points = max(b.points for b in self.bins)
        self._by_cat = {c: b for b in self.bins for c in b.categories}
        if self.banding and self.banding["type"] == "keywords":
            self._kw = [(re.compile(rf"\b{re.escape(k)}\b", re.I), lab) for k, lab in self.banding["keywords"]]

    def band(self, value: Any) -> Any:
        """Map an application value to the dataset category this feature was trained on."""
        b = self.banding
        if b is None:
            return value
        if b["type"] == "thresholds":
            if value is None:
                return b["null"]
            v = float(value)
            for edge, label in zip(b["edges"], b["labels"]):
                if v < edge:
                    return label
            return b["labels"][-1]
        if b["type"] == "map":
            return value if value in b["values"] else None
        if b["type"] == "keywords":
            text = str(value or "")
            for rx, label in self._kw:
                if rx.search(text):
                    return label
            return b["default"]
        raise ValueError(f"{self.name}: unknown banding {b['type']!r}")

    def lookup(self, banded: Any) -> tuple[str, float]:
        if banded is None:
            return "missing", self.missing_points
        if self.kind == "categorical":
            hit = self._by_cat.get(str(banded))
            return (hit.label, hit.points) if hit else ("missing", self.missing_points)
        try:
            v = float(banded)
        except (TypeError, ValueError):
            return "missing", self.missing_points
        if math.isnan(v):
            return "missing", self.missing_points
        for b in self.bins:
            if (b.lower is None or v >= b.lower) and (b.upper is None or v < b.upper):
                return b.label, b.points
        return "missing", self.missing_points  # unreachable with open-ended first/last bins


class Scorecard:
    """Additive points table with PD scaling and grade bands."""

    def __init__(self, table: dict[str, Any], sha256: str) -> None:
        self.table = table
        self.sha256 = sha256
        self.version: str = table["version"]
        self.features = [_Feature(f) for f in table["features"]]
        self.feature_names: list[str] = [f.name for f in self.features]
        if self.feature_names != list(table["feature_list"]):
            raise ValueError("points.json: feature_list does not match features")
        sc = table["scaling"]
        self.factor, self.offset = float(sc["factor"]), float(sc["offset"])
        self.grades: list[tuple[str, float | None]] = [(g["grade"], g["min_score"]) for g in table["grades"]]
        self.max_points: dict[str, float] = {f.name: f.max_points for f in self.features}

    @classmethod
    def load(cls, path: Path | None = None) -> "Scorecard":
        raw = Path(path or DEFAULT_POINTS).read_bytes()
        return cls(json.loads(raw), hashlib.sha256(raw).hexdigest())

    def pd_from_score(self, score: float) -> float:
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))

    def grade(self, score: float) -> str:
        for g, min_score in self.grades:
            if min_score is None or score >= min_score:
                return g
        return self.grades[-1][0]

    def _sum(self, banded: dict[str, Any], raw: dict[str, Any]) -> ScoreResult:
        items = []
        total = 0.0
        for f in self.features:
            label, pts = f.lookup(banded.get(f.name))
            total += pts
            items.append(ScoreItem(feature=f.name, value=raw.get(f.name), bin=label, points=round(pts, 4)))
        return ScoreResult(score=round(total, 4), pd=round(self.pd_from_score(total), 6), items=items)

    def score(self, features: dict[str, Any]) -> ScoreResult:
        """Score application-domain values (see points.json `banding`)."""
        banded = {f.name: f.band(features.get(f.name)) for f in self.features}
        return self._sum(banded, features)

    def score_banded(self, banded: dict[str, Any]) -> ScoreResult:
        """Score values already in the training vocabulary (dataset rows; used for parity checks)."""
        return self._sum(banded, banded)
