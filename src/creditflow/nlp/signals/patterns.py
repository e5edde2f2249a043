"""Turn lexicon terms into compiled regular expressions, once.

Why regex and not a PhraseMatcher: credit vocabulary is morphologically loose ("missed two
payments", "past-due", "charge-offs") and a handful of expressions per concept cover what
would be hundreds of literal phrases. Each concept gets ONE alternation (a single scan of the
text); only at the rare positions where it matches do we try the single terms to find the
longest one, so the common case (no match) costs one regex scan per concept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Word boundaries that also treat "-" as part of a word ("42-year-old" holds no cue "old"),
# yet allow terms that start/end with punctuation (":\s*none", "\?").
_LEFT = r"(?:(?<![\w-])|(?=[^\w]))"
_RIGHT = r"(?:(?![\w-])|(?<=[^\w]))"


_GAP = r"(?:\s+|\s*-\s*)"


def _spaces_to_gaps(term: str) -> str:
    """Replace literal spaces outside character classes and escapes by `_GAP`."""
    out: list[str] = []
    in_class = escaped = False
    for ch in term:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == " ":
            out.append(_GAP)
        else:
            out.append(ch)
    return "".join(out)


def term_source(term: str) -> str:
    """Regex source for one term: spaces match whitespace or a hyphen, boundaries added."""
    return f"{_LEFT}(?:{_spaces_to_gaps(term.strip())}){_RIGHT}"


@dataclass(frozen=True)
class TermSet:
    """Several terms scanned as one alternation; `longest_at` refines a hit to its longest term."""

    combined: re.Pattern[str]
    singles: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls, terms: list[str], flags: int = re.IGNORECASE) -> "TermSet":
        sources = [term_source(t) for t in terms]
        # the left boundary is factored out so that positions inside words fail at once
        bodies = "|".join(f"(?:{_spaces_to_gaps(t.strip())}){_RIGHT}" for t in terms)
        combined = re.compile(f"{_LEFT}(?:{bodies})", flags)
        return cls(combined=combined, singles=tuple(re.compile(s, flags) for s in sources))

    def finditer(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) hits, each the longest term matching at its start."""
        out: list[tuple[int, int]] = []
        for m in self.combined.finditer(text):
            start, end = m.start(), m.end()
            if len(self.singles) > 1:
                for rx in self.singles:
                    mm = rx.match(text, start)
                    if mm is not None and mm.end() > end:
                        end = mm.end()
            if end > start:
                out.append((start, end))
        return out


def drop_overlaps(spans: list[tuple[int, int, int]]) -> list[int]:
    """Greedy longest-first selection of non-overlapping spans.

    `spans` holds (start, end, priority) (lower priority value wins ties); returns the indices
    of the kept spans in text order.
    """
    order = sorted(range(len(spans)), key=lambda i: (-(spans[i][1] - spans[i][0]), spans[i][2], spans[i][0]))
    taken: list[tuple[int, int]] = []
    kept: list[int] = []
    for i in order:
        s, e, _ = spans[i]
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        kept.append(i)
    return sorted(kept, key=lambda i: spans[i][0])
