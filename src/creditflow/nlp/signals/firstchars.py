"""Which characters can a regular expression's match start with?

Why: Python's `re` tries every alternative of a big alternation at every position, which made
the lexicon scan cost milliseconds per note. Knowing each term's possible first characters lets
`TermSet` try only the few terms that can start at a given word, which is what makes the
detector run at thousands of notes per second. Unknown cases answer None ("could be anything"),
which is always safe: that term is simply tried everywhere.
"""

from __future__ import annotations

import re
import string
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]

_DIGITS = frozenset(string.digits)
_SPACES = frozenset(string.whitespace)


def _item_first(op: object, av: object) -> tuple[frozenset[str] | None, bool]:
    """(first characters or None for any, whether the item can match empty)."""
    if op is C.LITERAL:
        return frozenset({chr(av).lower()}), False  # type: ignore[arg-type]
    if op is C.IN:
        chars: set[str] = set()
        for sub_op, sub_av in av:  # type: ignore[union-attr]
            if sub_op is C.LITERAL:
                chars.add(chr(sub_av).lower())
            elif sub_op is C.RANGE and sub_av[1] - sub_av[0] < 400:
                chars.update(chr(x).lower() for x in range(sub_av[0], sub_av[1] + 1))
            elif sub_op is C.CATEGORY and sub_av is C.CATEGORY_DIGIT:
                chars.update(_DIGITS)
            elif sub_op is C.CATEGORY and sub_av is C.CATEGORY_SPACE:
                chars.update(string.whitespace)
            else:
                return None, False
        return frozenset(chars), False
    if op is C.BRANCH:
        acc: set[str] = set()
        nullable = False
        for branch in av[1]:  # type: ignore[index]
            f, n = _seq_first(branch)
            if f is None:
                return None, False
            acc |= f
            nullable = nullable or n
        return frozenset(acc), nullable
    if op is C.SUBPATTERN:
        return _seq_first(av[-1])  # type: ignore[index]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) or getattr(C, "POSSESSIVE_REPEAT", None) is op:
        lo, _hi, sub = av  # type: ignore[misc]
        f, n = _seq_first(sub)
        return f, n or lo == 0
    if getattr(C, "ATOMIC_GROUP", None) is op:
        return _seq_first(av)
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return frozenset(), True  # zero-width
    return None, False


def _seq_first(seq: object) -> tuple[frozenset[str] | None, bool]:
    acc: set[str] = set()
    for op, av in seq:  # type: ignore[attr-defined]
        f, nullable = _item_first(op, av)
        if f is None:
            return None, False
        acc |= f
        if not nullable:
            return frozenset(acc), False
    return frozenset(acc), True


def first_chars(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lower-cased characters a match may start with, or None when that is unknown/anything."""
    try:
        f, nullable = _seq_first(P.parse(pattern, flags))
    except Exception:  # pragma: no cover - private parser API changed: fall back to "anything"
        return None
    if f is None or nullable:
        return None
    return f | frozenset(ch.upper() for ch in f) | frozenset(ch.lower() for ch in f)



def with_start_guard(rx: re.Pattern[str], max_chars: int = 20) -> re.Pattern[str]:
    """`rx` behind a lookahead for the characters a match can start with: the same matches, found sooner.

    Why: `re` has no fast scan for a pattern that opens with a look-behind or a case-insensitive alternation
    ("(?<![\\w])(?:ssn|tax id|...)"): it tries the whole pattern at every position. A one-class lookahead
    rejects most positions at once. Exact, because the class only ever admits more than the pattern can start
    with: it is case-insensitive (a "(?i:...)" part of the pattern folds "ſ" onto "s" too), and it is widened to
    `\\d` / `\\s` when it holds every ASCII digit / whitespace character (`first_chars` lists ASCII ones only,
    while a category in a str pattern also covers non-ASCII digits and spaces). Returns `rx` itself when
    the first characters are unknown, more than `max_chars` (the guard then rejects too little to pay for
    itself), or the pattern opens with a literal (`re` already scans for that).
    """
    try:
        parsed = P.parse(rx.pattern, rx.flags)
        if len(parsed) and parsed[0][0] is C.LITERAL:
            return rx
    except Exception:  # pragma: no cover - private parser API changed: keep the pattern as it is
        return rx
    chars = first_chars(rx.pattern, rx.flags)
    if not chars or len(chars) > max_chars:
        return rx
    cls = "".join(re.escape(c) for c in sorted(chars))
    if _DIGITS <= chars:
        cls += r"\d"
    if _SPACES <= chars:
        cls += r"\s"
    try:
        return re.compile(f"(?=(?i:[{cls}]))(?:{rx.pattern})", rx.flags)
    except re.error:  # e.g. a global inline flag that must open the pattern
        return rx


__all__ = ["first_chars", "with_start_guard"]
