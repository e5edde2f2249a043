"""Document-type classification: weighted keyword rules first, the encoder head when unsure.

Why two stages: the rules (models/nlp/doc_types.yml) are fast and explainable and
decide almost every real document, whose title and labels name its type. Short,
damaged or unusual texts leave the rules unsure; then a logistic-regression head over
MiniLM embeddings (weights in models/nlp/doctype_head.json, trained by
`python -m creditflow.nlp.train_doctype_head` on the train split only) decides, mixed
with the rule evidence. `Classification.method` says which one decided.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from creditflow.nlp.fields import label_keys, label_regex, ocr_fold

OTHER = "other"


@dataclass(frozen=True)
class Classification:
    doc_type: str
    confidence: float
    method: str  # "rules" | "encoder"
    scores: dict[str, float]


class DocTypeHead:
    """Multinomial logistic regression stored as plain JSON (no pickle)."""

    def __init__(self, classes: list[str], coef: np.ndarray, intercept: np.ndarray) -> None:
        self.classes, self.coef, self.intercept = classes, coef, intercept

    @classmethod
    def from_path(cls, path: Path) -> "DocTypeHead":
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(d["classes"], np.asarray(d["coef"], dtype=np.float32), np.asarray(d["intercept"], dtype=np.float32))

    def predict_proba(self, emb: np.ndarray) -> np.ndarray:
        z = emb @ self.coef.T + self.intercept
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


class DocTypeClassifier:
    def __init__(self, spec: dict, head: DocTypeHead | None, embed: Callable[[list[str]], np.ndarray] | None,
                 use_encoder: bool = True) -> None:
        self.version = str(spec.get("version", "0"))
        self.min_score = float(spec.get("min_score", 3.0))
        self.margin = float(spec.get("margin", 2.0))
        self.keywords: dict[str, list[tuple[re.Pattern[str], float, tuple[str, ...]]]] = {
            t: [(re.compile(label_regex(k), re.I), float(w), label_keys(k)) for k, w in kws.items()]
            for t, kws in spec["types"].items()
        }
        self.head, self.embed, self.use_encoder = head, embed, use_encoder
        # the keywords in spec order, indexed by their first (longest) key: a text is then probed once per
        # distinct first key instead of once per keyword (see rule_scores)
        self._flat = [(t, p, w, keys) for t, kws in self.keywords.items() for p, w, keys in kws]
        self._by_first_key: dict[str, list[int]] = {}
        self._keyless: list[int] = []
        for i, (_t, _p, _w, keys) in enumerate(self._flat):
            if keys:
                self._by_first_key.setdefault(keys[0], []).append(i)
            else:
                self._keyless.append(i)

    def rule_scores(self, text: str) -> dict[str, float]:
        """Per type, the sum of the weights of its keywords found in the first 6,000 characters."""
        head = text[:6000]
        folded = ocr_fold(head)
        if folded is None:
            return {t: sum(w for p, w, _ in kws if p.search(head)) for t, kws in self.keywords.items()}
        # a keyword with a key absent from the folded text cannot match: its regex is skipped (label_keys)
        found = [i for i in self._keyless if self._flat[i][1].search(head)]
        for key, idxs in self._by_first_key.items():
            if key in folded:
                for i in idxs:
                    _t, p, _w, keys = self._flat[i]
                    if all(k in folded for k in keys[1:]) and p.search(head):
                        found.append(i)
        # summed per type in spec order from 0, exactly as sum() over the keyword list would
        scores: dict[str, float] = dict.fromkeys(self.keywords, 0)
        for i in sorted(found):
            t, _p, w, _keys = self._flat[i]
            scores[t] += w
        return scores

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    def classify_many(self, texts: list[str], scores: list[dict[str, float] | None] | None = None
                      ) -> list[Classification]:
        """Classify a batch; `scores` may carry already computed keyword scores (same spec)."""
        results: list[Classification | None] = []
        unsure: list[int] = []
        given = scores or [None] * len(texts)
        all_scores = [g if g else self.rule_scores(t) for t, g in zip(texts, given)]
        for i, scores in enumerate(all_scores):
            ranked = sorted(scores.items(), key=lambda kv: -kv[1])
            (best, s1), (_, s2) = ranked[0], ranked[1]
            if s1 >= self.min_score and s1 - s2 >= self.margin:
                conf = 1 / (1 + math.exp(-(s1 - s2) / 2)) * min(1.0, s1 / (self.min_score + 2))
                results.append(Classification(best, round(max(conf, 0.5), 3), "rules", scores))
            else:
                results.append(None)
                unsure.append(i)
        if unsure:
            if self.use_encoder and self.head is not None and self.embed is not None:
                emb = self.embed([texts[i] for i in unsure])
                probs = self.head.predict_proba(emb)
                for row, i in zip(probs, unsure):
                    results[i] = self._combine(row, all_scores[i])
            else:
                for i in unsure:
                    scores = all_scores[i]
                    best, s1 = max(scores.items(), key=lambda kv: kv[1])
                    if s1 >= self.min_score:
                        results[i] = Classification(best, 0.5, "rules", scores)
                    else:
                        results[i] = Classification(OTHER, 0.5, "rules", scores)
        return [r for r in results if r is not None]

    def _combine(self, probs: np.ndarray, scores: dict[str, float]) -> Classification:
        """Encoder probabilities, nudged by the rule evidence (a soft prior of the keyword scores)."""
        classes = self.head.classes  # type: ignore[union-attr]
        prior = np.array([scores.get(c, 0.0) for c in classes], dtype=np.float32)
        logits = np.log(np.clip(probs, 1e-6, 1.0)) + 0.35 * prior
        p = np.exp(logits - logits.max())
        p = p / p.sum()
        k = int(p.argmax())
        return Classification(classes[k], round(float(p[k]), 3), "encoder", scores)


def load_spec(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
