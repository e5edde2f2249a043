"""Chinese risk signals (ConText-style), protected-attribute mentions and PII.

Why the same technique as the English detector: the hard cases are identical in Chinese
("没有逾期记录" is DELINQUENCY negated, "如果工厂关闭，她可能会失业" is hypothetical, "其丈夫被裁员"
is third-party, "2015年曾破产，已撤销" is historical, "她是一名破产律师" is no signal at all) and
an officer must see the cue that decided each one. Chinese has no spaces, so single-character
cues (无, 未, 不, 曾, 若) only count where jieba puts a word boundary: 无锡 and 未来 are words,
not negations.

Resolution per target (longest target wins overlaps; `exclude` and ROLE cues drop it):
  polarity = nearest NEGATED (clause scope) / HYPOTHETICAL / HISTORICAL (sentence scope) cue,
             ties by that order, else affirmed; a year >= N years before the reference year in the
             sentence is a HISTORICAL cue;
  subject  = third_party when a relative/guarantor cue precedes it in the sentence and no
             applicant cue (申请人, 本人, "，她") stands between them.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from creditflow.nlp.contract import Evidence, PiiSpan, ProtectedAttribute, RiskSignal
from creditflow.nlp.zh.data import CueSpec, ZhData, cached_data

CLAUSE_END = set("，,；;。！？!?\n")
SENTENCE_END = set("。！？!?\n；;")
_RANK = {"negated": 0, "hypothetical": 1, "historical": 2}
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def is_valid_resident_id(number: str) -> bool:
    """GB 11643-1999: 18 characters, a real birth date at positions 7-14, ISO 7064 MOD 11-2 check."""
    n = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return False
    try:
        _dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(n[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11] == n[17]


def make_resident_id(first17: str) -> str:
    """Complete 17 digits with their check character (test-data generators)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return first17 + "10X98765432"[total % 11]


def _alt(terms: Iterable[str]) -> re.Pattern[str] | None:
    terms = sorted(set(terms), key=len, reverse=True)
    return re.compile("|".join(f"(?:{t})" for t in terms)) if terms else None


@dataclass(frozen=True)
class _Cue:
    start: int
    end: int
    category: str
    direction: str  # forward | backward | either


class ZhSignalDetector:
    """Compiled lexicons; build once (`detector()`), call `find*` many times."""

    def __init__(self, data: ZhData) -> None:
        self.version = data.version
        self.targets = [(code, spec.severity, _alt(spec.terms), _alt(spec.exclude)) for code, spec in data.risk.items()]
        cues: list[tuple[str, str, re.Pattern[str]]] = []
        for cat in ("negated", "hypothetical", "historical", "third_party", "applicant", "role"):
            spec = data.cues[cat]
            assert isinstance(spec, CueSpec)
            for direction in ("forward", "backward", "either"):
                pat = _alt(getattr(spec, direction))
                if pat is not None:
                    cues.append((cat, direction, pat))
        self.cues = cues
        hist = data.cues["historical"]
        self.year_min = hist.year_min_years_ago if isinstance(hist, CueSpec) and hist.year_min_years_ago else 3
        self.terminators = _alt(data.cues["terminators"])
        self.protected = data.protected
        self.pii = data.pii

    # ------------------------------------------------------------------ risk
    def _target_hits(self, text: str) -> list[tuple[int, int, str, str]]:
        hits = []
        for code, severity, pat, excl in self.targets:
            if pat is None:
                continue
            excluded = [(m.start(), m.end()) for m in excl.finditer(text)] if excl else []
            for m in pat.finditer(text):
                if m.end() == m.start():
                    continue
                if any(s <= m.start() and m.end() <= e for s, e in excluded):
                    continue
                hits.append((m.start(), m.end(), code, severity))
        hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
        kept: list[tuple[int, int, str, str]] = []
        for h in hits:  # longest first, then leftmost
            if not any(h[0] < k[1] and k[0] < h[1] for k in kept):
                kept.append(h)
        return sorted(kept)

    def _cue_hits(self, text: str, boundaries: set[int] | None, targets: list[tuple[int, int, str, str]]) -> list[_Cue]:
        out = []
        for cat, direction, pat in self.cues:
            for m in pat.finditer(text):
                s, e = m.start(), m.end()
                while s < e and text[s].isspace():
                    s += 1
                if e <= s:
                    continue
                if cat != "role" and any(s < t[1] and t[0] < e for t in targets):
                    continue  # part of a target ("未按时还款", "无法核实")
                if boundaries is not None and e - s == 1 and text[s] not in "：:":
                    # a one-character cue must be a word of its own, or stand right before a target
                    if s not in boundaries or (e not in boundaries and not any(t[0] == e for t in targets)):
                        continue
                out.append(_Cue(s, e, cat, direction))
        return out

    def _scope(self, text: str, pos: int, end: int, stops: set[str], term_spans: list[tuple[int, int]]) -> tuple[int, int]:
        lo = pos
        while lo > 0 and text[lo - 1] not in stops:
            lo -= 1
        hi = end
        while hi < len(text) and text[hi] not in stops:
            hi += 1
        for s, e in term_spans:
            if e <= pos and s >= lo:
                lo = e
            if s >= end and e <= hi:
                hi = s
        return lo, hi

    def find_risk(self, text: str, boundaries: set[int] | None = None, reference_year: int | None = None) -> list[RiskSignal]:
        targets = self._target_hits(text)
        if not targets:
            return []
        ref_year = reference_year or _dt.date.today().year
        cues = self._cue_hits(text, boundaries, targets)
        terms = [(m.start(), m.end()) for m in self.terminators.finditer(text)] if self.terminators else []
        years = [(m.start(), m.end(), int(m.group(1))) for m in _YEAR.finditer(text)]
        out: list[RiskSignal] = []
        for ts, te, code, severity in targets:
            clause = self._scope(text, ts, te, CLAUSE_END, terms)
            sentence = self._scope(text, ts, te, SENTENCE_END, terms)
            if any(c.category == "role" and clause[0] <= c.start and c.end <= clause[1] for c in cues):
                continue
            best: tuple[int, int, str] | None = None  # (distance, rank, polarity)
            for c in cues:
                if c.category not in _RANK:
                    continue
                lo, hi = clause if c.category == "negated" else sentence
                if c.direction in ("forward", "either") and c.end <= ts and c.start >= lo:
                    dist = ts - c.end
                elif c.direction in ("backward", "either") and c.start >= te and c.end <= hi:
                    dist = c.start - te
                else:
                    continue
                cand = (dist, _RANK[c.category], c.category)
                if best is None or cand < best:
                    best = cand
            for ys, ye, year in years:
                if ref_year - year >= self.year_min and sentence[0] <= ys and ye <= sentence[1]:
                    dist = ts - ye if ye <= ts else ys - te if ys >= te else 0
                    cand = (max(dist, 0), _RANK["historical"], "historical")
                    if best is None or cand < best:
                        best = cand
            polarity = best[2] if best else "affirmed"
            subject = "applicant"
            tp = [c for c in cues if c.category == "third_party" and sentence[0] <= c.start and c.end <= ts]
            if tp:
                last_tp = max(tp, key=lambda c: c.end)
                blocked = any(c.category == "applicant" and c.start >= last_tp.end and c.end <= ts for c in cues)
                if not blocked:
                    subject = "third_party"
            out.append(RiskSignal(code=code, polarity=polarity, subject=subject, severity=severity,  # type: ignore[arg-type]
                                  evidence=Evidence(text=text[ts:te], start=ts, end=te)))
        return out

    # ------------------------------------------------------------------ protected + PII
    def find_protected(self, text: str) -> list[ProtectedAttribute]:
        spans: list[tuple[int, int, str]] = []
        for cat, pats in self.protected.items():
            for pat in pats:
                for m in pat.finditer(text):
                    s, e = m.start(), m.end()
                    while s < e and text[s].isspace():
                        s += 1
                    if e > s:
                        spans.append((s, e, cat))
        spans.sort(key=lambda x: (x[0], -(x[1] - x[0])))
        kept: list[tuple[int, int, str]] = []
        for s, e, cat in spans:
            if any(k[2] == cat and s < k[1] and k[0] < e for k in kept):
                continue
            kept.append((s, e, cat))
        return [ProtectedAttribute(category=c, start=s, end=e) for s, e, c in sorted(kept)]  # type: ignore[arg-type]

    def find_pii(self, text: str) -> list[PiiSpan]:
        spans: list[tuple[int, int, str]] = []
        for m in _ID_RE.finditer(text):
            if is_valid_resident_id(m.group(0)):
                spans.append((m.start(), m.end(), "ID_NUMBER"))
        for typ in ("EMAIL", "PHONE", "ACCOUNT_NUMBER", "ADDRESS"):
            for pat in self.pii.get(typ, []):
                for m in pat.finditer(text):
                    if not any(m.start() < e and s < m.end() for s, e, _ in spans):
                        spans.append((m.start(), m.end(), typ))
        return [PiiSpan(type=t, start=s, end=e) for s, e, t in sorted(spans)]  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def detector() -> ZhSignalDetector:
    return ZhSignalDetector(cached_data())
