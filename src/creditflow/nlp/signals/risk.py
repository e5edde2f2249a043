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
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from creditflow.nlp.contract import Evidence, RiskSignal
from creditflow.nlp.signals.data import SignalData, cached_data
from creditflow.nlp.signals.patterns import Scanner, TermSet, candidates, drop_overlaps, overlaps_any, term_source
from creditflow.nlp.signals.segment import segment

if TYPE_CHECKING:
    from spacy.tokens import Doc

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
        # one scanner for the targets (+ their vetoes), one for the cues (only run when a target hit)
        self._target_scanner = Scanner([t.terms for t in self._targets])
        self._exclude_index = [i for i, t in enumerate(self._targets) if t.exclude is not None]
        self._exclude_scanner = Scanner([self._targets[i].exclude for i in self._exclude_index])  # type: ignore[misc]
        self._cue_index = [i for i, c in enumerate(self._cues) if c.terms is not None]
        self._cue_scanner = Scanner([self._cues[i].terms for i in self._cue_index])  # type: ignore[misc]

    # -------------------------------------------------------------- matching
    def targets(self, text: str, starts: list[int] | None = None) -> list[Hit]:
        starts = candidates(text) if starts is None else starts
        found = self._target_scanner.scan(text, starts)
        if not any(found):
            return []
        vetoes: dict[int, list[tuple[int, int]]] = {}
        if self._exclude_index:
            for i, spans in zip(self._exclude_index, self._exclude_scanner.scan(text, starts)):
                vetoes[i] = spans
        hits: list[Hit] = []
        for i, spans in enumerate(found):
            ts = self._targets[i]
            for s, e in spans:
                if any(s < ve and vs < e for vs, ve in vetoes.get(i, ())):
                    continue
                hits.append(Hit(s, e, ts.code, severity=ts.severity))
        kept = drop_overlaps([(h.start, h.end, i) for i, h in enumerate(hits)])
        return [hits[i] for i in kept]

    def cues(self, text: str, reference_year: int, starts: list[int] | None = None) -> list[Hit]:
        starts = candidates(text) if starts is None else starts
        hits: list[Hit] = []
        for i, spans in zip(self._cue_index, self._cue_scanner.scan(text, starts)):
            cs = self._cues[i]
            for s, e in spans:
                hits.append(Hit(s, e, cs.category, direction=cs.direction, max_scope=cs.max_scope,
                                max_scope_backward=cs.max_scope_backward))
        for cs in self._cues:
            for rx in cs.year_rxs:
                for m in rx.finditer(text):
                    if reference_year - int(m.group("year")) >= cs.min_years_ago:
                        hits.append(Hit(m.start(), m.end(), cs.category, direction=cs.direction,
                                        max_scope=cs.max_scope, max_scope_backward=cs.max_scope_backward))
        return hits

    # -------------------------------------------------------------- ConText
    def find(self, text: str, kind: str = "note", reference_year: int | None = None,
             doc: Doc | None = None) -> list[RiskSignal]:
        """Signals in `text`; `doc` is `text` tokenised by a `segment.same_tokenizer` pipeline, if at hand."""
        starts = candidates(text)
        targets = self.targets(text, starts)
        if not targets:
            return []  # the common case costs only the target scans
        year = reference_year if reference_year is not None else _dt.date.today().year
        all_cues = _merge_same_span(self.cues(text, year, starts))
        resolved = [all_cues[i] for i in drop_overlaps([(c.start, c.end, i) for i, c in enumerate(all_cues)])]
        t_starts = [t.start for t in targets]  # targets are disjoint and in text order
        t_ends = [t.end for t in targets]
        # a cue overlapping a target is part of the concept ("employer did not respond")...
        cues = [c for c in resolved if c.label != "PSEUDO" and not overlaps_any(c.start, c.end, t_starts, t_ends)]
        # ...except a hedge inside it ("the pay stub might be altered"), which makes it hypothetical
        hedged = {i for c in resolved if c.label == "HYPOTHETICAL"
                  for i in [bisect_right(t_starts, c.start) - 1]
                  if i >= 0 and targets[i].start < c.start and c.end <= targets[i].end}
        seg = segment(text, kind, doc)
        # cues bucketed by sentence: scopes never cross a sentence, so long documents stay linear
        by_sent: dict[int, list[tuple[Hit, int, int]]] = {}
        for c in cues:
            c0, c1 = seg.token_span(c.start, c.end)
            by_sent.setdefault(seg.sent[c0], []).append((c, c0, c1))

        out: list[RiskSignal] = []
        seen: set[tuple[str, str, str, str]] = set()
        for ti, t in enumerate(targets):
            t0, t1 = seg.token_span(t.start, t.end)
            s0, s1 = seg.sentence_bounds(t0)
            sent_cues = by_sent.get(seg.sent[t0], [])
            terminators = [(a, b) for c, a, b in sent_cues if c.label == "TERMINATE"]
            applicant_marks = [(a, b) for c, a, b in sent_cues if c.label in ("APPLICANT", "TERMINATE")]
            role = False
            best: tuple[int, int, str] | None = None  # (distance, rank, category)
            third = False
            for c, c0, c1 in sent_cues:
                if c.label in ("TERMINATE", "APPLICANT", "PSEUDO"):
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
            if ti in hedged:
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


def _merge_same_span(cues: list[Hit]) -> list[Hit]:
    """One cue per (span, category): a forward and a backward rule matching the same words
    ("0" in "no. 0 items" vs "NSF items   0") make one bidirectional cue."""
    merged: dict[tuple[int, int, str], Hit] = {}
    for c in cues:
        key = (c.start, c.end, c.label)
        prev = merged.get(key)
        if prev is None:
            merged[key] = c
        elif prev.direction != c.direction:
            fwd = prev if prev.direction == "forward" else c
            bwd = c if fwd is prev else prev
            merged[key] = Hit(c.start, c.end, c.label, direction="bidirectional", max_scope=fwd.max_scope,
                              max_scope_backward=bwd.max_scope_backward or bwd.max_scope)
    return list(merged.values())


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
