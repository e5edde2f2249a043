"""Tokens and sentences for ConText scopes: spaCy's English tokenizer + the sentencizer's rule.

Why not the full en_core_web_sm pipeline: scopes only need tokens and sentence ends, and the
blank pipeline is ~20x faster (FACTS.md). Line breaks matter too: every line of a document
(a bank-statement row) is its own sentence; in a free-text note a line break ends a sentence
only when the next line starts a new item (bullet, number, capital letter), so a wrapped
sentence keeps its scope.

Why the sentencizer's rule is applied here over token arrays instead of running the component:
its `predict` builds a Python Token per token, which cost as much as tokenising. `sentence_starts`
is the same rule (tests/nlp/test_fast_paths.py holds it to the component). And a caller that already
tokenised the text with an identical tokenizer (the NLP pipeline's) passes that Doc in.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

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


@lru_cache(maxsize=1)
def _punct_ids() -> frozenset[int]:
    """String ids of the sentencizer's sentence-final characters (ids are hashes: the same in every vocab)."""
    return frozenset(get_string_id(c) for c in blank_pipeline().get_pipe("sentencizer").punct_chars)


def same_tokenizer(nlp: Language) -> bool:
    """Does `nlp` tokenise exactly as `segment` does (same language, rules and lexical attributes)?

    Why: the NLP pipeline's Doc of a text can then be passed to `segment` instead of tokenising the text twice.
    """
    ours = blank_pipeline()
    return (nlp.lang == ours.lang
            and nlp.tokenizer.to_bytes(exclude=["vocab"]) == ours.tokenizer.to_bytes(exclude=["vocab"])
            and all(nlp.vocab.lex_attr_getters.get(a) is ours.vocab.lex_attr_getters.get(a)
                    for a in (IS_SPACE, IS_PUNCT)))


def sentence_starts(rows: list[list[int]]) -> list[bool]:
    """spaCy's `Sentencizer.predict` for one Doc, from `(is_punct, orth)` rows of its tokens.

    A sentence starts at the first token and at every token that is neither punctuation nor a sentence-final
    character and follows a sentence-final character (possibly with punctuation between, as in `." Next`).
    """
    punct = _punct_ids()
    starts = [False] * len(rows)
    if rows:
        starts[0] = True
    seen_period = False
    for i, (is_punct, orth) in enumerate(rows):
        final = orth in punct
        if seen_period and not is_punct and not final:
            starts[i] = True
            seen_period = False
        elif final:
            seen_period = True
    return starts


def segment(text: str, kind: str = "note", doc: Doc | None = None) -> Segmented:
    """Tokens and sentence ids of `text`; `doc`, if given, is `text` tokenised by a `same_tokenizer` pipeline."""
    if doc is None:
        doc = blank_pipeline().make_doc(text)
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
    rows = doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, ORTH]).tolist() if len(doc) else []
    sent_starts = sentence_starts([r[3:] for r in rows])
    for (idx, length, is_space, _punct, _orth), sent_start in zip(rows, sent_starts):
        if is_space:
            pending = pending or sent_start
            continue
        if starts and (sent_start or pending or any(b in breaks for b in range(last_end, idx))):
            sid += 1
        pending = False
        starts.append(idx)
        ends.append(idx + length)
        sent.append(sid)
        last_end = idx + length
    if not starts:
        starts, ends, sent = [0], [0], [0]
    return Segmented(starts=starts, ends=ends, sent=sent)
