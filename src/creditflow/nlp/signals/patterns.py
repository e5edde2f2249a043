"""Turn lexicon terms into compiled regular expressions, once.

Why regex and not a PhraseMatcher: credit vocabulary is morphologically loose ("missed two
payments", "past-due", "charge-offs") and a handful of expressions per concept cover what
would be hundreds of literal phrases. Each concept gets ONE alternation (a single scan of the
text); only at the rare positions where it matches do we try the single terms to find the
longest one, so the common case (no match) costs one regex scan per concept.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from creditflow.nlp.signals.firstchars import first_chars

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


# Where a term may start: at a word start (not after a letter, digit or hyphen) or at punctuation.
_CANDIDATES = re.compile(r"(?<![\w-])\w|[^\w\s]")


def candidates(text: str) -> list[int]:
    """Positions where any term may start; compute once per text and share between TermSets."""
    return [m.start() for m in _CANDIDATES.finditer(text)]


@dataclass(frozen=True)
class TermSet:
    """Terms scanned together; each hit is the longest term matching at its start.

    Terms are grouped by the characters they can start with (see firstchars.py), so at each
    candidate position only the few terms that can start with that character are tried.
    """

    by_char: dict[str, re.Pattern[str]]
    singles_by_char: dict[str, tuple[re.Pattern[str], ...]]
    wild: re.Pattern[str] | None
    wild_singles: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls, terms: list[str], flags: int = re.IGNORECASE) -> "TermSet":
        groups: dict[str, list[str]] = {}
        wild: list[str] = []
        for t in terms:
            body = f"(?:{_spaces_to_gaps(t.strip())}){_RIGHT}"
            chars = first_chars(body, flags)
            if chars is None:
                wild.append(body)
            else:
                for ch in chars:
                    groups.setdefault(ch, []).append(body)
        def alt(bodies: list[str]) -> re.Pattern[str]:
            return re.compile("|".join(f"(?:{b})" for b in bodies), flags)
        return cls(
            by_char={ch: alt(b) for ch, b in groups.items()},
            singles_by_char={ch: tuple(re.compile(x, flags) for x in b) for ch, b in groups.items()},
            wild=alt(wild) if wild else None,
            wild_singles=tuple(re.compile(x, flags) for x in wild),
        )

    def finditer(self, text: str, starts: list[int] | None = None) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) hits, left to right, each the longest term at its start."""
        out: list[tuple[int, int]] = []
        last_end = -1
        by_char, wild = self.by_char, self.wild
        for p in candidates(text) if starts is None else starts:
            if p < last_end:
                continue
            ch = text[p]
            rx = by_char.get(ch)
            end = -1
            if rx is not None:
                m = rx.match(text, p)
                if m is not None:
                    end = m.end()
            if wild is not None:
                m = wild.match(text, p)
                if m is not None and m.end() > end:
                    end = m.end()
            if end <= p:
                continue
            for single in (*self.singles_by_char.get(ch, ()), *self.wild_singles):
                m = single.match(text, p)
                if m is not None and m.end() > end:
                    end = m.end()
            out.append((p, end))
            last_end = end
        return out


class Scanner:
    """Scan a text once for many TermSets (targets, cues, excludes) and return hits per set.

    Why: looping over the candidate positions once, trying at each position only the sets that
    have a term starting with that character, removes the per-set Python loop that dominated
    the cost of a short note.
    """

    def __init__(self, sets: list[TermSet]) -> None:
        self._n = len(sets)
        table: dict[str, list[tuple[int, re.Pattern[str], tuple[re.Pattern[str], ...]]]] = {}
        wild: list[tuple[int, re.Pattern[str], tuple[re.Pattern[str], ...]]] = []
        for sid, ts in enumerate(sets):
            for ch, rx in ts.by_char.items():
                table.setdefault(ch, []).append((sid, rx, (*ts.singles_by_char[ch], *ts.wild_singles)))
            if ts.wild is not None:
                wild.append((sid, ts.wild, ts.wild_singles))
        self._table = table
        self._wild = wild
        self._gate = {ch: _gate([rx for _sid, rx, _s in entries]) if len(entries) >= 3 else None
                      for ch, entries in table.items()}
        self._wild_gate = _gate([rx for _sid, rx, _s in wild])

    def scan(self, text: str, starts: list[int] | None = None) -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = [[] for _ in range(self._n)]
        last_end = [-1] * self._n
        table, wild, gates, wild_gate = self._table, self._wild, self._gate, self._wild_gate
        for p in candidates(text) if starts is None else starts:
            ch = text[p]
            entries = table.get(ch)
            if entries and not _passes(gates[ch], text, p):
                entries = None  # no term of any set matches here
            for group in (entries, wild if wild and _passes(wild_gate, text, p) else None):
                if not group:
                    continue
                for sid, rx, singles in group:
                    if p < last_end[sid]:
                        continue
                    m = rx.match(text, p)
                    if m is None or m.end() <= p:
                        continue
                    end = m.end()
                    if len(singles) > 1:
                        for single in singles:
                            mm = single.match(text, p)
                            if mm is not None and mm.end() > end:
                                end = mm.end()
                    out[sid].append((p, end))
                    last_end[sid] = end
        return out


_BACKREF = re.compile(r"\\[1-9]|\(\?P[=<]")


def _gate(patterns: list[re.Pattern[str]]) -> tuple[re.Pattern[str], ...] | None:
    """One alternation per flag setting over all the sets' patterns tried at a position.

    Why: most candidate positions start no term at all; one failed match of the union (in C) then
    replaces one failed match per set (each a Python call). A position the union matches is
    scanned set by set exactly as before, so the hits are unchanged. None (no gate: always scan the
    sets) when a pattern could not be combined (named groups, back-references) or there are fewer than
    three sets (then the union costs about what it saves).
    """
    if len(patterns) < 3 or any(_BACKREF.search(p.pattern) for p in patterns):
        return None
    by_flags: dict[int, list[str]] = {}
    for p in patterns:
        by_flags.setdefault(p.flags, []).append(p.pattern)
    try:
        return tuple(re.compile("|".join(f"(?:{x})" for x in srcs), flags) for flags, srcs in by_flags.items())
    except re.error:  # pragma: no cover - defensive: fall back to scanning every set
        return None


def _passes(gate: tuple[re.Pattern[str], ...] | None, text: str, pos: int) -> bool:
    if gate is None:
        return True
    for rx in gate:
        if rx.match(text, pos) is not None:
            return True
    return False


def drop_overlaps(spans: list[tuple[int, int, int]]) -> list[int]:
    """Greedy longest-first selection of non-overlapping spans.

    `spans` holds (start, end, priority) (lower priority value wins ties); returns the indices
    of the kept spans in text order. O(n log n): the kept spans are disjoint, so a new span
    only needs checking against its neighbours in start order.
    """
    order = sorted(range(len(spans)), key=lambda i: (-(spans[i][1] - spans[i][0]), spans[i][2], spans[i][0]))
    starts: list[int] = []
    ends: list[int] = []
    kept: list[int] = []
    for i in order:
        s, e, _ = spans[i]
        k = bisect_left(starts, s)
        if k < len(starts) and starts[k] < e:
            continue
        if k > 0 and ends[k - 1] > s:
            continue
        starts.insert(k, s)
        ends.insert(k, e)
        kept.append(i)
    return sorted(kept, key=lambda i: spans[i][0])


def overlaps_any(start: int, end: int, starts: list[int], ends: list[int]) -> bool:
    """Does [start, end) overlap one of the disjoint spans given by sorted `starts`/`ends`?"""
    k = bisect_left(starts, end)  # spans starting before `end` are at indices < k
    return k > 0 and ends[k - 1] > start
