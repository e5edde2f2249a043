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
from creditflow.nlp.signals.patterns import Scanner, TermSet, drop_overlaps


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
        self._owner = [c.name for c in cats for _ in c.sets]
        self._scanner = Scanner([ts for c in cats for ts in c.sets])

    def find(self, text: str) -> list[ProtectedAttribute]:
        """All mentions; overlapping mentions of one category merge into the longest."""
        out: list[ProtectedAttribute] = []
        by_cat: dict[str, list[tuple[int, int, int]]] = {}
        for name, spans in zip(self._owner, self._scanner.scan(text)):
            by_cat.setdefault(name, []).extend((s, e, 0) for s, e in spans)
        for name, spans in by_cat.items():
            for i in drop_overlaps(spans):
                s, e, _ = spans[i]
                out.append(ProtectedAttribute(category=name, start=s, end=e))  # type: ignore[arg-type]
        out.sort(key=lambda p: (p.start, p.end, p.category))
        return out


@lru_cache(maxsize=4)
def protected_detector(directory: str | None = None) -> ProtectedDetector:
    return ProtectedDetector(cached_data(directory))
