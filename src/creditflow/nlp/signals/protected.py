"""Protected-attribute mentions (age, sex, marital status, religion, ...), with offsets.

Why: these words must be kept OUT of every credit decision. They are never features; the
officer console highlights them so a human reviewer knows the text mentioned one and does not
weigh it. Recall is what matters (a missed mention can leak into a judgement), so the lexicon
is generous; pronouns are deliberately not sex mentions (see protected_attributes.yml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from creditflow.nlp.contract import ProtectedAttribute
from creditflow.nlp.signals.data import SignalData, cached_data
from creditflow.nlp.signals.patterns import TermSet, drop_overlaps


@dataclass(frozen=True)
class _Category:
    name: str
    sets: tuple[TermSet, ...]


class ProtectedDetector:
    def __init__(self, data: SignalData) -> None:
        cats: list[_Category] = []
        for name, spec in data.protected.categories.items():
            sets: list[TermSet] = []
            if spec.terms:
                sets.append(TermSet.build(spec.terms, re.IGNORECASE))
            if spec.case_sensitive:
                sets.append(TermSet.build(spec.case_sensitive, 0))
            cats.append(_Category(name, tuple(sets)))
        self._cats = tuple(cats)

    def find(self, text: str) -> list[ProtectedAttribute]:
        """All mentions; overlapping mentions of one category merge into the longest."""
        out: list[ProtectedAttribute] = []
        for cat in self._cats:
            spans = [(s, e, 0) for ts in cat.sets for s, e in ts.finditer(text)]
            for i in drop_overlaps(spans):
                s, e, _ = spans[i]
                out.append(ProtectedAttribute(category=cat.name, start=s, end=e))  # type: ignore[arg-type]
        out.sort(key=lambda p: (p.start, p.end, p.category))
        return out


@lru_cache(maxsize=4)
def protected_detector(directory: str | None = None) -> ProtectedDetector:
    return ProtectedDetector(cached_data(directory))
