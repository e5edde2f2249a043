"""Property tests: offsets always index the input, nothing raises on arbitrary unicode."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditflow.nlp.signals import find_signals

# words that trigger targets, cues, protected mentions and PII, mixed with arbitrary text
VOCAB = ["no", "not", "late payments", "laid off", "her husband", "if", "might", "in 2009", "casino dealer",
         "works as a", "NSF", "but", ";", ".", "\n", "42-year-old", "pregnant", "Muslim", "Mr. John Smith",
         "123-45-6789", "DOB: 01/02/1980", "a@b.co", "years ago", "none", ":", "İ", "ß", "🙂", "\u200b", "ﬁ"]
mixed = st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=12)), max_size=30).map(" ".join)


def _check(text: str, kind: str) -> None:
    risk, protected, pii = find_signals(text, kind)
    for s in risk:
        assert 0 <= s.evidence.start < s.evidence.end <= len(text)
        assert text[s.evidence.start:s.evidence.end] == s.evidence.text
    for p in protected:
        assert 0 <= p.start < p.end <= len(text)
    for p in pii:
        assert 0 <= p.start < p.end <= len(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mixed, kind=st.sampled_from(["note", "document", "auto"]))
def test_offsets_index_the_input(text: str, kind: str) -> None:
    _check(text, kind)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    _check(text, "note")
