"""The Chinese pipeline: spaCy blank "zh" with the jieba segmenter + pattern components.

Why a separate pipeline and not more rules in the English one: the English tokenizer cannot
segment Chinese, English labels and cue words do not apply, and the English pipeline's speed
work must not pay for Chinese. Both return the same `Analysis` contract (language="zh").
Nothing is downloaded: jieba ships its dictionary in the PyPI wheel.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from creditflow.nlp.contract import Analysis, Entity, Evidence, FieldValue, PiiSpan, ProtectedAttribute, RiskSignal
from creditflow.nlp.zh.data import cached_data
from creditflow.nlp.zh.fields import classify, extract_fields, looks_like_document, registration_problem
from creditflow.nlp.zh.numbers import find_dates, find_money
from creditflow.nlp.zh.signals import detector

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_ORG = re.compile(r"[\u4e00-\u9fa5（）()]{2,24}?(?:股份有限公司|有限责任公司|有限公司|集团|银行)")
_PERSON_FIELDS = {"employee_name", "account_holder", "full_name", "legal_representative", "taxpayer_name",
                  "customer_name"}
_ORG_FIELDS = {"employer_name", "bank_name", "company_name"}


@Language.factory("creditflow_zh_document", assigns=[], default_config={})
def make_document_component(nlp: Language, name: str) -> "ZhDocumentComponent":
    return ZhDocumentComponent()


class ZhDocumentComponent:
    """Kind (note/document), doc type and fields; results in doc.user_data["zh"]."""

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        st: dict[str, Any] = doc.user_data.setdefault("zh", {})
        requested = st.get("requested_kind", "auto")
        kind = requested if requested in ("document", "note") else (
            "document" if looks_like_document(text) else "note")
        st["kind"] = kind
        if kind == "document":
            doc_type, conf, _ = classify(text)
            st["doc_type"], st["doc_type_confidence"] = doc_type, conf
            st["fields"] = extract_fields(text, doc_type) if doc_type != "other" else {}
        return doc


@Language.factory("creditflow_zh_signals", assigns=[], default_config={})
def make_signals_component(nlp: Language, name: str) -> "ZhSignalsComponent":
    return ZhSignalsComponent()


class ZhSignalsComponent:
    """Risk signals (cues checked against jieba word boundaries), protected attributes, PII."""

    def __call__(self, doc: Doc) -> Doc:
        st = doc.user_data.setdefault("zh", {})
        boundaries = {t.idx for t in doc} | {t.idx + len(t.text) for t in doc}
        det = detector()
        st["risk"] = det.find_risk(doc.text, boundaries, st.get("reference_year"))
        st["protected"] = det.find_protected(doc.text)
        st["pii"] = det.find_pii(doc.text)
        return doc


def build_zh_pipeline() -> Language:
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("creditflow_zh_document")
    nlp.add_pipe("creditflow_zh_signals")
    return nlp


def _overlaps(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and a < e for a, b in spans)


class ZhPipeline:
    """Loaded once per process (jieba's dictionary takes ~1 s); one batch at a time."""

    def __init__(self) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.nlp = build_zh_pipeline()
        self.data_version = cached_data().version
        self._lock = threading.Lock()

    def boundaries(self, text: str) -> set[int]:
        with self._lock:
            doc = self.nlp.make_doc(text)
        return {t.idx for t in doc} | {t.idx + len(t.text) for t in doc}

    def analyze_many(self, texts: list[str], kind: str, model_version: str,
                     reference_year: int | None = None) -> list[Analysis]:
        docs = []
        for t in texts:
            doc = self.nlp.make_doc(_CONTROL.sub(" ", t))  # one for one: offsets stay offsets into t
            doc.user_data["zh"] = {"requested_kind": kind, "reference_year": reference_year}
            docs.append(doc)
        with self._lock:
            out = list(self.nlp.pipe(docs))
        return [self._to_analysis(t, d, model_version) for t, d in zip(texts, out)]

    def _to_analysis(self, text: str, doc: Doc, model_version: str) -> Analysis:
        st = doc.user_data["zh"]
        kind = st["kind"]
        fields: dict[str, FieldValue] = st.get("fields", {}) if kind == "document" else {}
        risk: list[RiskSignal] = list(st["risk"])
        protected: list[ProtectedAttribute] = list(st["protected"])
        pii: list[PiiSpan] = list(st["pii"])
        bad = registration_problem(fields)
        if bad is not None:
            risk.append(RiskSignal(code="FRAUD_INDICATOR", polarity="affirmed", subject="applicant", severity="high",
                                   evidence=Evidence(text=text[bad.start:bad.end], start=bad.start, end=bad.end)))
        _merge_english(text, kind, risk, protected, pii)
        for name, fv in fields.items():
            typ = ("PERSON" if name in _PERSON_FIELDS - {"legal_representative"} else "ID_NUMBER"
                   if name == "id_number" else "DATE_OF_BIRTH" if name == "date_of_birth" else None)
            if typ and not any(p.start == fv.start and p.end == fv.end and p.type == typ for p in pii):
                pii = [p for p in pii if not (p.start < fv.end and fv.start < p.end)]
                pii.append(PiiSpan(type=typ, start=fv.start, end=fv.end))
        return Analysis(
            kind=kind, doc_type=st.get("doc_type") if kind == "document" else None,
            doc_type_confidence=float(st.get("doc_type_confidence", 0.0)) if kind == "document" else 0.0,
            fields=fields, entities=_entities(text, fields), risk_signals=sorted(risk, key=lambda r: r.evidence.start),
            protected_attributes=sorted(protected, key=lambda p: (p.start, p.end)),
            pii=sorted(pii, key=lambda p: (p.start, p.end)), model_version=model_version, language="zh",
            classifier="rules" if kind == "document" else None,
        )


def _entities(text: str, fields: dict[str, FieldValue]) -> list[Entity]:
    ents: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for name, fv in fields.items():
        label = "PERSON" if name in _PERSON_FIELDS else "ORG" if name in _ORG_FIELDS else None
        if label and fv.end > fv.start:
            ents.append(Entity(label=label, text=text[fv.start:fv.end], start=fv.start, end=fv.end))
            taken.append((fv.start, fv.end))
    for s, e, _, _ in find_money(text):
        if not _overlaps(s, e, taken):
            ents.append(Entity(label="MONEY", text=text[s:e], start=s, end=e))
            taken.append((s, e))
    for s, e, _ in find_dates(text):
        if not _overlaps(s, e, taken):
            ents.append(Entity(label="DATE", text=text[s:e], start=s, end=e))
            taken.append((s, e))
    for m in _ORG.finditer(text):
        if not _overlaps(m.start(), m.end(), taken):
            ents.append(Entity(label="ORG", text=m.group(0), start=m.start(), end=m.end()))
            taken.append((m.start(), m.end()))
    return sorted(ents, key=lambda x: (x.start, x.end))


def _merge_english(text: str, kind: str, risk: list[RiskSignal], protected: list[ProtectedAttribute],
                   pii: list[PiiSpan]) -> None:
    """Mixed text: English phrases inside a Chinese text still count ("申请人有 two payday loans")."""
    if not re.search(r"[A-Za-z]{3,}", text):
        return
    try:
        from creditflow.nlp.signals import find_signals
    except ImportError:  # pragma: no cover
        return
    try:
        en_risk, en_prot, en_pii = find_signals(text, "document" if kind == "document" else "note")
    except Exception:  # an English-detector bug must not lose the Chinese analysis
        import logging

        logging.getLogger(__name__).exception("English signals on mixed text failed")
        return
    spans = [(r.evidence.start, r.evidence.end) for r in risk]
    risk.extend(r for r in en_risk if not _overlaps(r.evidence.start, r.evidence.end, spans))
    pspans = [(p.start, p.end) for p in protected]
    protected.extend(p for p in en_prot if not _overlaps(p.start, p.end, pspans))
    ispans = [(p.start, p.end) for p in pii]
    pii.extend(p for p in en_pii if not _overlaps(p.start, p.end, ispans))


def current_year() -> int:
    return _dt.date.today().year
