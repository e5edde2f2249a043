"""Turn the surface forms found in documents into contract values.

Why separate from extraction: the same money / date / frequency readers are used by the
field extractor, by the tests and by the evaluation script, and each reader has to be
right on its own for every format the documents use (`$1,234.56`, `1,234.56 USD`,
`USD 1234.56`, `03/15/2026`, `March 15, 2026`, `15 Mar 2026`, ISO ...).
Each reader returns None when the text is not what it expects; it never raises.
"""

from __future__ import annotations

import difflib
import re
from datetime import date

_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})

CURRENCY_WORDS: dict[str, str] = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollars": "USD",
    "¥": "CNY", "￥": "CNY", "rmb": "CNY", "cny": "CNY", "yuan": "CNY",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "c$": "CAD", "cad": "CAD",
}
_CUR = r"(?:US\$|C\$|\$|¥|￥|€|£|USD|CNY|RMB|EUR|GBP|CAD)"
_NUM = r"\d(?:[0-9Ool,.']*[0-9Ool])?"
MONEY_RE = re.compile(
    rf"(?P<neg>[-(])?[ \t]*(?P<pre>{_CUR})?[ \t]*(?P<neg2>-)?[ \t]*(?P<num>{_NUM})[ \t]*(?P<scale>million|thousand|[mk]\b)?"
    rf"[ \t]*\)?[ \t]*(?P<post>{_CUR}(?![A-Za-z])|yuan|dollars|euros?)?",
    re.IGNORECASE,
)

MONTHS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = r"(?P<mon>[A-Za-z]{3,9})\.?"
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_D = r"[0-9Ool]"
DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?P<y>{_D}{{4}})[-/.](?P<m>{_D}{{1,2}})[-/.](?P<d>{_D}{{1,2}})"),
    re.compile(rf"(?P<a>{_D}{{1,2}})[/.-](?P<b>{_D}{{1,2}})[/.-](?P<y>{_D}{{4}})"),
    re.compile(rf"{_MONTH}\s+(?P<d>{_D}{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>{_D}{{4}})", re.IGNORECASE),
    re.compile(rf"(?P<d>{_D}{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<y>{_D}{{4}})", re.IGNORECASE),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
)
#: A regex source matching any supported date (used inside field patterns).
DATE_REGEX = "|".join(f"(?:{p.pattern})" for p in DATE_PATTERNS[:4]).replace("?P<", "?:<")


def month_number(word: str) -> int:
    """Month from a full or abbreviated name, tolerating one OCR slip ('Junc', 'Dcc'); KeyError if none."""
    w = word.lower().rstrip(".")
    if w in _MONTH_NAMES or (w[:3] in MONTHS and (len(w) <= 4 or any(m.startswith(w) for m in _MONTH_NAMES))):
        return MONTHS[w[:3]]
    close = difflib.get_close_matches(w, list(_MONTH_NAMES) + [m[:3] for m in _MONTH_NAMES], n=1, cutoff=0.74)
    if not close:
        raise KeyError(word)
    return MONTHS[close[0][:3]]


def _digits(s: str) -> str:
    return s.translate(_OCR_DIGITS)


def parse_money(text: str, default_currency: str | None = None) -> tuple[float, str | None] | None:
    """Parse the first amount in `text` -> (value, ISO currency or None).

    Commas and spaces group thousands; a single `,` followed by exactly two digits at the
    end is read as a decimal comma (`1.234,56 EUR`). Parentheses or a leading minus make
    the amount negative. OCR confusions inside the number (O for 0, l for 1) are repaired.
    """
    if not text:
        return None
    m = MONEY_RE.search(text)
    if not m:
        return None
    raw = _digits(m.group("num")).replace(" ", "").replace("'", "")
    if not any(ch.isdigit() for ch in raw) or not re.fullmatch(r"[0-9.,]+", raw):
        return None
    if re.search(r",\d{2}$", raw) and "." in raw[:-3]:
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d{2}", raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{2}", raw):
        raw = raw.replace(",", ".")
    else:
        raw = raw.replace(",", "")
    if raw.count(".") > 1:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    scale = (m.group("scale") or "").lower()
    if scale in ("million", "m"):
        value *= 1_000_000
    elif scale in ("thousand", "k"):
        value *= 1_000
    if m.group("neg") or m.group("neg2"):
        value = -value
    cur_word = (m.group("pre") or m.group("post") or "").lower()
    currency = CURRENCY_WORDS.get(cur_word, default_currency)
    if cur_word == "$" and default_currency and default_currency != "USD" and default_currency in ("CAD",):
        currency = default_currency
    return round(value, 2), currency


def parse_date(text: str, *, day_first: bool = False) -> str | None:
    """Parse the first date in `text` into ISO `YYYY-MM-DD` (None if none or impossible).

    Numeric dates are read month-first (US documents) unless the first number cannot be
    a month or `day_first` is set.
    """
    if not text:
        return None
    for pat in DATE_PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        g = m.groupdict()
        try:
            y = int(_digits(g["y"]))
            if g.get("mon"):
                mo = month_number(g["mon"])
                d = int(_digits(g["d"]))
            elif "a" in g and g.get("a") is not None:
                a, b = int(_digits(g["a"])), int(_digits(g["b"]))
                if day_first or a > 12:
                    d, mo = a, b
                else:
                    mo, d = a, b
            else:
                mo, d = int(_digits(g["m"])), int(_digits(g["d"]))
            return date(y, mo, d).isoformat()
        except (ValueError, KeyError):
            continue
    return None


FREQUENCY_PATTERNS = _FREQ = (
    ("semimonthly", re.compile(r"semi[\s-]?monthly|twice (?:a|per) month|24 pay", re.I)),
    ("biweekly", re.compile(r"bi[\s-]?weekly|every (?:two|2) weeks|fortnightly|26 pay", re.I)),
    ("weekly", re.compile(r"\bweekly|every week|52 pay", re.I)),
    ("monthly", re.compile(r"\bmonthly|once a month|12 pay", re.I)),
)


def parse_frequency(text: str) -> str | None:
    """weekly | biweekly | semimonthly | monthly, from the words a pay stub uses."""
    text = (text or "").replace("rn", "m").replace("0", "o").replace("1", "l")
    for name, pat in _FREQ:
        if pat.search(text):
            return name
    return None


PERIODS_PER_MONTH: dict[str, float] = {"weekly": 52 / 12, "biweekly": 26 / 12, "semimonthly": 2.0, "monthly": 1.0}


def monthly_from(gross_pay: float, frequency: str) -> float:
    """Monthly gross income from one period's gross pay (52 weeks / 26 fortnights a year)."""
    return round(gross_pay * PERIODS_PER_MONTH[frequency], 2)


EMPLOYMENT_PATTERNS = _EMP = (
    ("part_time", re.compile(r"part[\s-]?time", re.I)),
    ("contract", re.compile(r"contract(?:or)?|temporary|fixed[\s-]term|freelance|consultant", re.I)),
    ("full_time", re.compile(r"full[\s-]?time|permanent|regular,? full|salaried", re.I)),
)


def parse_employment_type(text: str) -> str | None:
    """full_time | part_time | contract."""
    for name, pat in _EMP:
        if pat.search(text or ""):
            return name
    return None


def parse_int(text: str) -> int | None:
    """The first whole number (OCR-repaired); words for small numbers too ('none' -> 0)."""
    words = {"none": 0, "zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
             "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    m = re.search(r"\b([0-9Ool]{1,6})\b|\b(none|zero|no|one|two|three|four|five|six|seven|eight|nine|ten)\b",
                  text or "", re.I)
    if not m:
        return None
    if m.group(2):
        return words[m.group(2).lower()]
    try:
        return int(_digits(m.group(1)))
    except ValueError:
        return None


def clean_name(text: str) -> str:
    """Collapse whitespace and strip punctuation around a name or title."""
    return re.sub(r"\s+", " ", text or "").strip(" \t:;,-|")
