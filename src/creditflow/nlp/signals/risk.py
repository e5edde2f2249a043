"""Risk signals with ConText-style polarity and subject.

Why ConText and not a classifier: a credit officer must see *why* a signal was raised, and the
hard cases are exactly the ones where the vocabulary is present but the event is not ("no late
payments", "if the plant closes she might lose her job", "her husband was laid off", "works as a
casino dealer"). ConText (Chapman et al.; medspaCy, negspaCy) handles them with data: target
terms, plus cue phrases that modify targets within a directional scope that ends at the
sentence end or a termination word ("but", "however").

Resolution per target:
  1. a ROLE cue in scope (occupation/duty context) -> the mention is vocabulary, no signal;
  2. polarity = the NEAREST NEGATED/HYPOTHETICAL/HISTORICAL cue in scope (ties by that order),
     else affirmed;
  3. subject = third_party when a THIRD_PARTY cue covers it (its scope also ends at an
     APPLICANT cue such as "she" or "the applicant"), else applicant.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache

from creditflow.nlp.contract import Evidence, RiskSignal
from creditflow.nlp.signals.data import SignalData, cached_data
from creditflow.nlp.signals.patterns import TermSet, drop_overlaps, term_source
from creditflow.nlp.signals.segment import Segmented, segment

_POLARITY_RANK = {"NEGATED": 0, "HYPOTHETICAL": 1, "HISTORICAL": 2}
_POLARITY_NAME = {"NEGATED": "negated", "HYPOTHETICAL": "hypothetical", "HISTORICAL": "historical"}


@dataclass(frozen=True)
class _TargetSet:
    code: str
    severity: str
    terms: TermSet
    exclude: TermSet | None


@dataclass(frozen=True)
class _CueSet:
    category: str
    direction: str
    max_scope: int | None
    max_scope_backward: int | None
    terms: TermSet | None  # None for year rules (compiled separately: they share a group name)
    year_rxs: tuple[re.Pattern[str], ...] = ()
    min_years_ago: int = 0


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    label: str  # risk code for targets, category for cues
    severity: str = ""
    direction: str = "none"
    max_scope: int | None = None
    max_scope_backward: int | None = None


class RiskDetector:
    """Compiled targets and cues; build once (see `detector()`), call `find` many times."""

    def __init__(self, data: SignalData) -> None:
        self.version = data.version
        targets: list[_TargetSet] = []
        for code, spec in data.taxonomy.codes.items():
            plain = [t for t in spec.terms if isinstance(t, str)]
            exclude = TermSet.build(spec.exclude) if spec.exclude else None
            if plain:
                targets.append(_TargetSet(code, spec.severity, TermSet.build(plain), exclude))
            for t in spec.terms:
                if not isinstance(t, str):
                    targets.append(_TargetSet(code, t.severity or spec.severity, TermSet.build([t.re]), exclude))
        self._targets = tuple(targets)
        cues: list[_CueSet] = []
        for rule in data.context.rules:
            back = rule.max_scope_backward or rule.max_scope
            if rule.year_group:
                rxs = tuple(re.compile(term_source(t), re.IGNORECASE) for t in rule.terms)
                cues.append(_CueSet(rule.category, rule.direction, rule.max_scope, back, None, rxs, rule.min_years_ago))
            else:
                cues.append(_CueSet(rule.category, rule.direction, rule.max_scope, back, TermSet.build(rule.terms)))
        self._cues = tuple(cues)

    # -------------------------------------------------------------- matching
    def targets(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        for ts in self._targets:
            found = ts.terms.finditer(text)
            if not found:
                continue
            vetoes = ts.exclude.finditer(text) if ts.exclude is not None else []
            for s, e in found:
                if any(s < ve and vs < e for vs, ve in vetoes):
                    continue
                hits.append(Hit(s, e, ts.code, severity=ts.severity))
        kept = drop_overlaps([(h.start, h.end, i) for i, h in enumerate(hits)])
        return [hits[i] for i in kept]

    def cues(self, text: str, reference_year: int) -> list[Hit]:
        hits: list[Hit] = []
        for cs in self._cues:
            if cs.terms is not None:
                for s, e in cs.terms.finditer(text):
                    hits.append(Hit(s, e, cs.category, direction=cs.direction, max_scope=cs.max_scope,
                                    max_scope_backward=cs.max_scope_backward))
                continue
            for rx in cs.year_rxs:
                for m in rx.finditer(text):
                    if reference_year - int(m.group("year")) >= cs.min_years_ago:
                        hits.append(Hit(m.start(), m.end(), cs.category, direction=cs.direction,
                                        max_scope=cs.max_scope, max_scope_backward=cs.max_scope_backward))
        return hits

    # -------------------------------------------------------------- ConText
    def find(self, text: str, kind: str = "note", reference_year: int | None = None) -> list[RiskSignal]:
        targets = self.targets(text)
        if not targets:
            return []  # the common case costs only the target scans
        year = reference_year if reference_year is not None else _dt.date.today().year
        all_cues = self.cues(text, year)
        resolved = [all_cues[i] for i in drop_overlaps([(c.start, c.end, i) for i, c in enumerate(all_cues)])]
        # a cue overlapping a target is part of the concept ("employer did not respond")...
        cues = [c for c in resolved if c.label != "PSEUDO"
                and not any(c.start < t.end and t.start < c.end for t in targets)]
        # ...except a hedge inside it ("the pay stub might be altered"), which makes it hypothetical
        inner_hedges = [c for c in resolved if c.label == "HYPOTHETICAL"
                        and any(t.start < c.start and c.end <= t.end for t in targets)]
        seg = segment(text, kind)
        tok_cues = [(c, *seg.token_span(c.start, c.end)) for c in cues]
        terminators = [(a, b) for c, a, b in tok_cues if c.label == "TERMINATE"]
        applicant_marks = [(a, b) for c, a, b in tok_cues if c.label in ("APPLICANT", "TERMINATE")]

        out: list[RiskSignal] = []
        seen: set[tuple[str, str, str, str]] = set()
        for t in targets:
            t0, t1 = seg.token_span(t.start, t.end)
            s0, s1 = seg.sentence_bounds(t0)
            role = False
            best: tuple[int, int, str] | None = None  # (distance, rank, category)
            third = False
            for c, c0, c1 in tok_cues:
                if c.label in ("TERMINATE", "APPLICANT", "PSEUDO") or not (s0 <= c0 < s1):
                    continue
                stops = applicant_marks if c.label == "THIRD_PARTY" else terminators
                dist = _distance(c, c0, c1, t0, t1, s0, s1, stops)
                if dist is None:
                    continue
                if c.label == "ROLE":
                    role = True
                elif c.label == "THIRD_PARTY":
                    third = True
                elif c.label in _POLARITY_RANK:
                    key = (dist, _POLARITY_RANK[c.label], c.label)
                    if best is None or key < best:
                        best = key
            if role:
                continue
            if any(t.start < h.start and h.end <= t.end for h in inner_hedges):
                best = (0, _POLARITY_RANK["HYPOTHETICAL"], "HYPOTHETICAL")
            polarity = _POLARITY_NAME[best[2]] if best else "affirmed"
            subject = "third_party" if third else "applicant"
            # one signal per distinct wording: ten "NSF FEE" rows of a statement are one finding
            key2 = (t.label, polarity, subject, " ".join(text[t.start:t.end].lower().split()))
            if key2 in seen:
                continue
            seen.add(key2)
            out.append(RiskSignal(
                code=t.label, polarity=polarity, subject=subject, severity=t.severity,  # type: ignore[arg-type]
                evidence=Evidence(text=text[t.start:t.end], start=t.start, end=t.end),
            ))
        return out


def _distance(c: Hit, c0: int, c1: int, t0: int, t1: int, s0: int, s1: int,
              stops: list[tuple[int, int]]) -> int | None:
    """Token distance from cue to target if the target lies in the cue's scope, else None."""
    if c.direction in ("forward", "bidirectional") and t0 >= c1:
        end = s1 if c.max_scope is None else min(s1, c1 + c.max_scope)
        for a, _b in stops:
            if c1 <= a < end:
                end = a
        if t0 < end:
            return t0 - c1
    if c.direction in ("backward", "bidirectional") and t1 <= c0:
        back = c.max_scope_backward or c.max_scope
        begin = s0 if back is None else max(s0, c0 - back)
        for _a, b in stops:
            if begin < b <= c0:
                begin = b
        if t1 > begin:
            return c0 - t1
    return None


@lru_cache(maxsize=4)
def detector(directory: str | None = None) -> RiskDetector:
    return RiskDetector(cached_data(directory))
