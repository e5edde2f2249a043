"""PII spans (names, ID and account numbers, phones, e-mails, addresses, dates of birth).

Why our own patterns: Presidio's spaCy NER tags job titles as people and runs at ~80 short
texts/s (FACTS.md). Here names are found only where the text says they are names (titles,
"Name:" fields, cue words such as "applicant Jane Doe"), numbers only when their format AND
checksum fit (Luhn for cards, ISO 7064 mod 97 for IBAN, GB 11643 for Chinese ID numbers), so
a reference number or an amount is not masked as an account. The document engineer may merge
spaCy PERSON entities on top of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as _C  # type: ignore[attr-defined]
from re import _parser as _P  # type: ignore[attr-defined]
from functools import lru_cache
from typing import Callable

from creditflow.nlp.contract import PiiSpan
from creditflow.nlp.signals.data import SignalData, cached_data
from creditflow.nlp.signals.firstchars import with_start_guard
from creditflow.nlp.signals.patterns import drop_overlaps


def luhn_ok(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    s = value.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"


def cn_id_ok(value: str) -> bool:
    """GB 11643-1999 checksum of an 18-character resident identity number."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _CN_WEIGHTS))
    return _CN_CHECK[total % 11] == value[17].upper()


def ssn_ok(value: str) -> bool:
    """US SSN format rules (area not 000/666/9xx, group not 00, serial not 0000)."""
    area, group, serial = value.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


VALIDATORS: dict[str, Callable[[str], bool]] = {"luhn": luhn_ok, "iban": iban_ok, "cn_id": cn_id_ok, "ssn": ssn_ok}


_DIGIT = re.compile(r"\d")
_DIGIT_CHARS = frozenset("0123456789")


def _item_needs_digit(op: object, av: object) -> bool:
    if op is _C.LITERAL:
        return chr(av) in _DIGIT_CHARS  # type: ignore[arg-type]
    if op is _C.IN:
        members = list(av)  # type: ignore[call-overload]
        return bool(members) and all(
            (o is _C.LITERAL and chr(a) in _DIGIT_CHARS)
            or (o is _C.RANGE and ord("0") <= a[0] and a[1] <= ord("9"))
            or (o is _C.CATEGORY and a is _C.CATEGORY_DIGIT)
            for o, a in members)
    if op is _C.BRANCH:
        return all(_seq_needs_digit(b) for b in av[1])  # type: ignore[index]
    if op is _C.SUBPATTERN:
        return _seq_needs_digit(av[-1])  # type: ignore[index]
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) or getattr(_C, "POSSESSIVE_REPEAT", None) is op:
        lo, _hi, sub = av  # type: ignore[misc]
        return lo >= 1 and _seq_needs_digit(sub)
    if getattr(_C, "ATOMIC_GROUP", None) is op:
        return _seq_needs_digit(av)
    return False  # assertions, anchors, anything unknown: no claim


def _seq_needs_digit(seq: object) -> bool:
    return any(_item_needs_digit(op, av) for op, av in seq)  # type: ignore[attr-defined]


def needs_digit(pattern: str, flags: int = 0) -> bool:
    """True only if every match of `pattern` contains an ASCII digit (so a text without `\\d` has no match).

    Why: most notes have no digit at all, and then the ID, account, phone, address and date-of-birth patterns
    (the costly keyword-led ones among them) cannot match; skipping them leaves the result unchanged. A
    conservative reading of the parsed pattern: anything it does not understand counts as "no claim".
    """
    try:
        return _seq_needs_digit(_P.parse(pattern, flags))
    except Exception:  # pragma: no cover - private parser API changed: always run the pattern
        return False


@dataclass(frozen=True)
class _Pattern:
    type: str
    rx: re.Pattern[str]
    group: str | int
    check: Callable[[str], bool] | None
    needs_digit: bool = False


class PiiDetector:
    def __init__(self, data: SignalData) -> None:
        pats: list[_Pattern] = []
        for typ, plist in data.pii.patterns.items():
            for p in plist:
                rx = re.compile(p.re, re.IGNORECASE if p.ignore_case else 0)
                pats.append(_Pattern(typ, with_start_guard(rx), p.group or 0,
                                     VALIDATORS[p.validator] if p.validator else None,
                                     needs_digit(rx.pattern, rx.flags)))
        self._patterns = tuple(pats)

    def find(self, text: str) -> list[PiiSpan]:
        spans: list[tuple[int, int, int]] = []
        types: list[str] = []
        has_digit = _DIGIT.search(text) is not None
        for prio, p in enumerate(self._patterns):
            if p.needs_digit and not has_digit:
                continue  # every match of this pattern holds a digit (needs_digit): none here
            for m in p.rx.finditer(text):
                s, e = m.span(p.group)
                if s < 0 or e <= s:
                    continue
                value = text[s:e]
                # trim trailing punctuation a greedy pattern may have taken
                stripped = value.rstrip(" .,;:-")
                e = s + len(stripped)
                if e <= s or (p.check is not None and not p.check(stripped)):
                    continue
                spans.append((s, e, prio))
                types.append(p.type)
        return [PiiSpan(type=types[i], start=spans[i][0], end=spans[i][1])  # type: ignore[arg-type]
                for i in drop_overlaps(spans)]


@lru_cache(maxsize=4)
def pii_detector(directory: str | None = None) -> PiiDetector:
    return PiiDetector(cached_data(directory))
