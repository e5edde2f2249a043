"""Risk signals, protected-attribute mentions and PII spans in notes and documents.

Entry point for the NLP pipeline:
    find_signals(text, kind="note") -> (risk_signals, protected_attributes, pii)
All detectors are built once from the versioned lexicons in models/nlp/signals/ and cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creditflow.nlp.contract import PiiSpan, ProtectedAttribute, RiskSignal
from creditflow.nlp.signals.data import cached_data
from creditflow.nlp.signals.pii import pii_detector
from creditflow.nlp.signals.protected import protected_detector
from creditflow.nlp.signals.risk import detector

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["find_signals", "find_risk_signals", "find_protected", "find_pii", "signals_version",
           "evaluate_notes", "warm_up"]


def find_risk_signals(text: str, kind: str = "note", *, reference_year: int | None = None,
                      doc: Doc | None = None) -> list[RiskSignal]:
    """Risk signals with polarity/subject/severity; `reference_year` decides "historical" years.

    `doc`: `text` already tokenised by a pipeline whose tokenizer is `segment.same_tokenizer` (reused, not redone).
    """
    return detector().find(text, "document" if kind == "document" else "note", reference_year, doc=doc)


def find_protected(text: str) -> list[ProtectedAttribute]:
    return protected_detector().find(text)


def find_pii(text: str) -> list[PiiSpan]:
    return pii_detector().find(text)


def find_signals(
    text: str, kind: str = "note", *, reference_year: int | None = None, doc: Doc | None = None
) -> tuple[list[RiskSignal], list[ProtectedAttribute], list[PiiSpan]]:
    """All three detectors over one text. `kind` is "note" or "document" ("auto" counts as note).

    Every returned span satisfies text[start:end] == the evidence it reports. `doc`: see `find_risk_signals`.
    """
    return (find_risk_signals(text, kind, reference_year=reference_year, doc=doc), find_protected(text),
            find_pii(text))


def signals_version() -> str:
    """Version of the lexicons in use (taxonomy version + hash of the four files)."""
    return cached_data().version


def warm_up() -> None:
    """Compile everything (and load the tokenizer) before the first request."""
    find_signals("Warm-up: no late payments; her husband was laid off. Name: Jane Doe, DOB 1980-01-01.")


def evaluate_notes(split: str = "test", write_card: bool = False):  # type: ignore[no-untyped-def]
    """Run the notes evaluation (see creditflow.nlp.signals.evaluate.evaluate_notes)."""
    from creditflow.nlp.signals.evaluate import evaluate_notes as _run

    return _run(split=split, write_card=write_card)
