"""Tokens and sentences for ConText scopes: spaCy's blank English tokenizer + sentencizer.

Why not the full en_core_web_sm pipeline: scopes only need tokens and sentence ends, and the
blank pipeline is ~20x faster (FACTS.md). Line breaks matter too: every line of a document
(a bank-statement row) is its own sentence; in a free-text note a line break ends a sentence
only when the next line starts a new item (bullet, number, capital letter), so a wrapped
sentence keeps its scope.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START
from spacy.language import Language

_NOTE_BREAK = re.compile(r"\n[ \t]*(?:\n|[-*•·▪–]|\d+[.)]|[A-Z])")


@lru_cache(maxsize=1)
def blank_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@dataclass(frozen=True)
class Segmented:
    """Word tokens (whitespace tokens dropped) with character offsets and sentence ids."""

    starts: list[int]
    ends: list[int]
    sent: list[int]

    def token_at(self, char: int) -> int:
        """Index of the token containing (or, between tokens, preceding) `char`."""
        return max(bisect_right(self.starts, char) - 1, 0)

    def token_span(self, start: int, end: int) -> tuple[int, int]:
        """Token range [first, last+1) covering characters [start, end)."""
        first = self.token_at(start)
        if self.ends[first] <= start and first + 1 < len(self.starts):
            first += 1
        last = self.token_at(max(end - 1, start))
        return first, max(last + 1, first + 1)

    def sentence_bounds(self, token: int) -> tuple[int, int]:
        """Token range [first, last+1) of the sentence holding `token`."""
        sid = self.sent[token]
        return bisect_left(self.sent, sid), bisect_right(self.sent, sid)


def segment(text: str, kind: str = "note") -> Segmented:
    doc = blank_pipeline()(text)
    if kind == "document":
        breaks = {m.start() for m in re.finditer(r"\n", text)}
    else:
        breaks = {m.start() for m in _NOTE_BREAK.finditer(text)}
    starts: list[int] = []
    ends: list[int] = []
    sent: list[int] = []
    sid = 0
    last_end = 0
    pending = False  # a sentence start fell on a whitespace token
    # to_array avoids creating a Python Token object per token (the main cost of this step)
    rows = doc.to_array([IDX, LENGTH, IS_SPACE, SENT_START]).astype("int64").tolist() if len(doc) else []
    for idx, length, is_space, sent_start in rows:
        if is_space:
            pending = pending or sent_start == 1
            continue
        if starts and (sent_start == 1 or pending or any(b in breaks for b in range(last_end, idx))):
            sid += 1
        pending = False
        starts.append(idx)
        ends.append(idx + length)
        sent.append(sid)
        last_end = idx + length
    if not starts:
        starts, ends, sent = [0], [0], [0]
    return Segmented(starts=starts, ends=ends, sent=sent)
