"""Build the spaCy pipeline and turn its Docs into contract `Analysis` objects.

Why the pipeline is assembled here, in code, from installed packages and models/nlp/
data: nothing is downloaded, the same function serves the CLI, the worker and the NLP
service, and `model_version` pins the data it was built from.
"""

from __future__ import annotations

import re
import threading
from typing import Iterable

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from creditflow.config import get_settings
from creditflow.nlp import components as _components  # noqa: F401  (registers the factories)
from creditflow.nlp import ruler as _ruler  # noqa: F401  (registers creditflow_entity_ruler)
from creditflow.nlp.contract import Analysis, Entity, Evidence, FieldValue, PiiSpan, RiskSignal
from creditflow.nlp.errors import TextTooLarge
from creditflow.nlp.resources import model_version, nlp_dir, spacy_model_path
from creditflow.nlp.uscc import is_valid_uscc

try:  # built concurrently by another part of the project; analysis still works without it
    from creditflow.nlp.signals import find_signals as _find_signals
    from creditflow.nlp.signals.segment import same_tokenizer as _same_tokenizer
except ImportError:  # pragma: no cover - depends on the checkout
    _find_signals = None
    _same_tokenizer = None

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_PERSON_FIELDS = {"employee_name", "account_holder", "full_name", "legal_representative", "taxpayer_name",
                  "customer_name"}
_ORG_FIELDS = {"employer_name", "bank_name", "company_name"}


def build_pipeline(use_encoder: bool = True) -> Language:
    """Tokenizer of en_core_web_sm + rules + classifier + field extraction + prose-only NER."""
    nlp = spacy.load(spacy_model_path(), exclude=["tok2vec", "tagger", "parser", "senter", "attribute_ruler",
                                                  "lemmatizer", "ner"])
    d = nlp_dir()
    nlp.add_pipe("creditflow_kind", config={"rules_path": str(d / "doc_types.yml")})
    # spaCy's entity_ruler, matching only near digits (ruler.py: same entities, a fraction of the time)
    ruler = nlp.add_pipe("creditflow_entity_ruler", name="entity_ruler",
                         config={"phrase_matcher_attr": "LOWER", "validate": True})
    ruler.from_disk(d / "entity_patterns.jsonl")  # type: ignore[attr-defined]
    nlp.add_pipe("creditflow_doctype", config={"rules_path": str(d / "doc_types.yml"),
                                               "head_path": str(d / "doctype_head.json"), "use_encoder": use_encoder})
    nlp.add_pipe("creditflow_fields", config={"fields_path": str(d / "fields.yml")})
    # last: it skips what the fields already explain
    nlp.add_pipe("creditflow_model_ner")
    nlp.get_pipe("creditflow_model_ner").initialize()  # type: ignore[attr-defined]
    return nlp


def sanitize(text: str) -> str:
    """Blank control characters one for one, so offsets into the result are offsets into the input."""
    return _CONTROL.sub(" ", text)


# One document and one note through every step once at load time. Why: the signal detectors, their spaCy
# tokenizer + sentencizer, the field extractor's and normaliser's regexes and spaCy's tokenizer caches are all
# built lazily; on a fresh process they cost ~0.3 s spread over the first few requests. Contents are synthetic.
_WARM_UP_TEXTS = (
    "ACME LOGISTICS INC. - EARNINGS STATEMENT\nEmployee: Jane Q. Sample    Employee ID: 00042\n"
    "Pay Date: 01/15/2026    Pay Frequency: Biweekly\nGross Pay: $2,000.00    Net Pay: $1,500.00\n"
    "YTD Gross: $4,000.00\nNSF fee returned item 01/10/2026\n",
    "Called the applicant; she said there were no late payments, but her husband was laid off in March 2025. "
    "Spoke with Jane Sample at Acme Corp.",
)


class Pipeline:
    """A loaded pipeline plus the conversion to `Analysis`; safe to share between threads."""

    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp or build_pipeline()
        self.version = model_version()
        self.max_chars = get_settings().max_nlp_chars
        self._lock = threading.Lock()  # spaCy components are not re-entrant; keep one doc batch at a time
        # the risk-signal scopes tokenise the text with the same English tokenizer: hand them our Doc instead
        # (no component retokenizes, so its tokens are still the tokenizer's)
        self.share_tokens = _same_tokenizer is not None and _same_tokenizer(self.nlp)
        self.analyze_many(_WARM_UP_TEXTS)  # pay the lazy loads now, not on the first requests

    def check_size(self, text: str) -> None:
        if len(text) > self.max_chars:
            raise TextTooLarge(len(text), self.max_chars)

    def analyze_many(self, texts: Iterable[str], kind: str = "auto") -> list[Analysis]:
        texts = [t if isinstance(t, str) else "" for t in texts]
        for t in texts:
            self.check_size(t)
        docs = []
        for t in texts:
            clean = sanitize(t)
            doc = self.nlp.make_doc(clean)
            doc.user_data[_components.TEXT_KEY] = clean  # == doc.text, which spaCy would rebuild token by token
            doc._.requested_kind = kind
            docs.append(doc)
        with self._lock:
            out_docs = list(self.nlp.pipe(docs, batch_size=32))
        return [self._to_analysis(text, doc) for text, doc in zip(texts, out_docs)]

    # ------------------------------------------------------------------ conversion
    def _to_analysis(self, text: str, doc: Doc) -> Analysis:
        kind = doc._.kind or "note"
        fields: dict[str, FieldValue] = dict(doc._.fields or {}) if kind == "document" else {}
        entities = [Entity(label=e.label_, text=text[e.start_char:e.end_char], start=e.start_char, end=e.end_char)
                    for e in doc.ents]
        entities = self._add_field_entities(text, entities, fields)
        risk: list[RiskSignal] = []
        protected = []
        pii: list[PiiSpan] = []
        if _find_signals is not None and text.strip():
            try:
                shared = doc if self.share_tokens and _components.doc_text(doc) == text else None
                risk, protected, pii = _find_signals(text, kind, doc=shared)
                risk, protected, pii = list(risk), list(protected), list(pii)
            except Exception:  # a signal bug must not lose the document analysis
                import logging

                logging.getLogger(__name__).exception("find_signals failed")
        reg = fields.get("registration_number")
        if reg is not None and not is_valid_uscc(str(reg.value)):
            risk.append(RiskSignal(code="FRAUD_INDICATOR", polarity="affirmed", subject="applicant", severity="high",
                                   evidence=Evidence(text=text[reg.start:reg.end], start=reg.start, end=reg.end)))
        pii = self._add_field_pii(pii, fields)
        return Analysis(
            kind=kind,
            doc_type=doc._.doc_type if kind == "document" else None,
            doc_type_confidence=float(doc._.doc_type_confidence or 0.0) if kind == "document" else 0.0,
            fields=fields, entities=entities, risk_signals=risk, protected_attributes=protected, pii=pii,
            model_version=self.version, language=_language(text),
            classifier=doc._.classifier if kind == "document" else None,
        )

    @staticmethod
    def _add_field_entities(text: str, entities: list[Entity], fields: dict[str, FieldValue]) -> list[Entity]:
        """Names read from labelled fields are better evidence than the model's guess at that spot."""
        extra = []
        for name, fv in fields.items():
            label = "PERSON" if name in _PERSON_FIELDS else "ORG" if name in _ORG_FIELDS else None
            if label and fv.end > fv.start:
                extra.append(Entity(label=label, text=text[fv.start:fv.end], start=fv.start, end=fv.end))
        if not extra:
            return entities
        kept = [e for e in entities if not any(e.start < x.end and x.start < e.end for x in extra)]
        return sorted(kept + extra, key=lambda e: (e.start, e.end))

    @staticmethod
    def _add_field_pii(pii: list[PiiSpan], fields: dict[str, FieldValue]) -> list[PiiSpan]:
        have = {(p.type, p.start, p.end) for p in pii}
        for name, fv in fields.items():
            typ = ("PERSON" if name in _PERSON_FIELDS - {"legal_representative"} else "ID_NUMBER"
                   if name == "id_number" else "DATE_OF_BIRTH" if name == "date_of_birth" else None)
            if typ and (typ, fv.start, fv.end) not in have:
                pii.append(PiiSpan(type=typ, start=fv.start, end=fv.end))
                have.add((typ, fv.start, fv.end))
        return sorted(pii, key=lambda p: (p.start, p.end))


_CJK_CHAR = re.compile("[\u4e00-\u9fff]")
_LATIN_CHAR = re.compile("[A-Za-z]")


def _language(text: str) -> str | None:
    sample = text[:2000]
    # counted in C by the regex engine: a Python loop over 2,000 characters cost more than the signals
    cjk = len(_CJK_CHAR.findall(sample))
    latin = len(_LATIN_CHAR.findall(sample))
    if not cjk and not latin:
        return None
    return "zh" if cjk > latin else "en"
