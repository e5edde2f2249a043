"""The rule-based entity ruler (MONEY / DATE / ID formats), matched only where a match can be.

Why: spaCy's Matcher tries every pattern at every token and calls a Python regex per token and
predicate, which made the ruler ~0.3 ms of a ~2.5 ms analysis, mostly on tokens that cannot be
part of any match. Every pattern in models/nlp/entity_patterns.jsonl has a required token whose
regex needs a digit, and no pattern is longer than five tokens. So a text without a digit has no
match, and every match lies within `max_len - 1` tokens of a token holding a digit: the same
Matcher run over those windows only finds the same matches, hence the same entities.

The property is read from the patterns themselves when they are added (`digit_window`): a pattern
without such a token, or with an operator of unbounded length, turns the shortcut off and the
whole Doc is matched as before. tests/nlp/test_fast_paths.py holds both paths equal.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left, bisect_right
from typing import Any, Callable, Iterable

from spacy.attrs import IDX
from spacy.language import Language
from spacy.matcher.levenshtein import levenshtein_compare
from spacy.pipeline.entityruler import DEFAULT_ENT_ID_SEP, EntityRuler, entity_ruler_score
from spacy.tokens import Doc

from creditflow.nlp.signals.pii import needs_digit
from creditflow.nlp.components import doc_text

_DIGITS = re.compile(r"\d+")  # the same `\d` the patterns' regexes use (Unicode digits in str patterns)
_TEXT_ATTRS = ("TEXT", "ORTH")  # the token's own text: a digit there is a digit of the Doc's text


def _value_needs_digit(value: Any) -> bool:
    """Can a token's text satisfy this TEXT/ORTH predicate value only if it holds a digit?"""
    if isinstance(value, str):
        return _DIGITS.search(value) is not None
    if isinstance(value, dict):
        if set(value) == {"REGEX"} and isinstance(value["REGEX"], str):
            return needs_digit(value["REGEX"])
        if set(value) == {"IN"} and isinstance(value["IN"], list):
            return bool(value["IN"]) and all(isinstance(v, str) and _DIGITS.search(v) for v in value["IN"])
    return False


def _token_needs_digit(spec: dict[str, Any]) -> bool:
    """A required token (no operator) whose text predicate needs a digit."""
    return "OP" not in spec and any(_value_needs_digit(spec[a]) for a in _TEXT_ATTRS if a in spec)


def _max_tokens(pattern: list[dict[str, Any]]) -> int | None:
    """The longest match of a token pattern, or None when an operator makes it unbounded."""
    n = 0
    for spec in pattern:
        if spec.get("OP", "1") not in ("1", "?", "!"):
            return None
        n += 1
    return n


def digit_window(patterns: Iterable[list[dict[str, Any]]]) -> int | None:
    """The longest match if every token pattern needs a digit in a required token, else None (no shortcut)."""
    longest = 0
    for pattern in patterns:
        size = _max_tokens(pattern)
        if size is None or not any(_token_needs_digit(spec) for spec in pattern):
            return None
        longest = max(longest, size)
    return longest or None


def digit_windows(doc: Doc, text: str, size: int) -> list[tuple[int, int]]:
    """Merged token ranges [a, b) holding every token sequence of at most `size` tokens that holds a digit."""
    runs = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
    if not runs:
        return []
    starts = doc.to_array(IDX).tolist()
    out: list[tuple[int, int]] = []
    n = len(doc)
    for s, e in runs:
        # every token overlapping the digit run (a run is one token unless the tokenizer split it)
        for d in range(bisect_right(starts, s) - 1, bisect_left(starts, e)):
            a, b = max(0, d - size + 1), min(n, d + size)
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
    return out


class DigitAnchoredRuler(EntityRuler):
    """`EntityRuler` whose token Matcher runs only on the `digit_windows` of a Doc (same matches)."""

    _window: int | None = None  # `digit_window` of the current patterns (0: no shortcut); None: not computed

    def window(self) -> int:
        if self._window is None:
            self._window = digit_window(p for ps in self.token_patterns.values() for p in ps) or 0
        return self._window

    def match(self, doc: Doc) -> list[tuple[int, int, int]]:
        size = self.window()
        if not size or len(self.phrase_patterns):
            return super().match(doc)
        self._require_patterns()
        matches: list[tuple[int, int, int]] = []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="\\[W036")
            for a, b in digit_windows(doc, doc_text(doc), size):
                matches.extend((m_id, a + s, a + e) for m_id, s, e in self.matcher(doc[a:b]))
        # as EntityRuler.match: drop empty matches, de-duplicate, longest first then leftmost
        final = {(m_id, s, e) for m_id, s, e in matches if s != e}
        return sorted(final, key=lambda m: (m[2] - m[1], -m[1]), reverse=True)

    # every way the patterns change goes through one of these (from_disk/from_bytes clear and add)
    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        self._window = None
        super().add_patterns(patterns)

    def clear(self) -> None:
        self._window = None
        super().clear()

    def remove(self, ent_id: str) -> None:
        self._window = None
        super().remove(ent_id)


@Language.factory(
    "creditflow_entity_ruler", assigns=["doc.ents", "token.ent_type", "token.ent_iob"],
    default_config={"phrase_matcher_attr": None, "matcher_fuzzy_compare": {"@misc": "spacy.levenshtein_compare.v1"},
                    "validate": False, "overwrite_ents": False, "ent_id_sep": DEFAULT_ENT_ID_SEP,
                    "scorer": {"@scorers": "spacy.entity_ruler_scorer.v1"}},
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_digit_ruler(nlp: Language, name: str, *, phrase_matcher_attr: str | None,
                     matcher_fuzzy_compare: Callable = levenshtein_compare, validate: bool = False,
                     overwrite_ents: bool = False, ent_id_sep: str = DEFAULT_ENT_ID_SEP,
                     scorer: Callable | None = entity_ruler_score) -> DigitAnchoredRuler:
    return DigitAnchoredRuler(nlp, name, phrase_matcher_attr=phrase_matcher_attr,
                              matcher_fuzzy_compare=matcher_fuzzy_compare, validate=validate,
                              overwrite_ents=overwrite_ents, ent_id_sep=ent_id_sep, scorer=scorer)
