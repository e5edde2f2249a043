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
from functools import lru_cache
from typing import Callable

from creditflow.nlp.contract import PiiSpan
from creditflow.nlp.signals.data import SignalData, cached_data
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


@dataclass(frozen=True)
class _Pattern:
    type: str
    rx: re.Pattern[str]
    group: str | int
    check: Callable[[str], bool] | None


class PiiDetector:
    def __init__(self, data: SignalData) -> None:
        pats: list[_Pattern] = []
        for typ, plist in data.pii.patterns.items():
            for p in plist:
                rx = re.compile(p.re, re.IGNORECASE if p.ignore_case else 0)
                pats.append(_Pattern(typ, rx, p.group or 0, VALIDATORS[p.validator] if p.validator else None))
        self._patterns = tuple(pats)

    def find(self, text: str) -> list[PiiSpan]:
        spans: list[tuple[int, int, int]] = []
        types: list[str] = []
        for prio, p in enumerate(self._patterns):
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
