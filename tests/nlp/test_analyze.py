"""analyze(): the NLP contract end to end on the real pipeline (spaCy model + rules + classifier)."""

from __future__ import annotations

import re
import threading

import pytest

import creditflow.nlp as nlp
from creditflow.nlp import TextTooLarge, analyze, analyze_many
from creditflow.nlp.contract import DOC_TYPES, Analysis

from nlp_doc_cases import CASES


def _check_offsets(text: str, a: Analysis) -> None:
    for fv in a.fields.values():
        assert 0 <= fv.start <= fv.end <= len(text)
    for e in a.entities:
        assert text[e.start:e.end] == e.text
    for s in a.risk_signals:
        assert text[s.evidence.start:s.evidence.end] == s.evidence.text
    for p in a.pii:
        assert 0 <= p.start < p.end <= len(text)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_each_doc_type_classified_and_extracted(doc_type):
    text, gold = CASES[doc_type]
    a = analyze(text)
    assert a.kind == "document"
    assert a.doc_type == doc_type
    assert 0.5 <= a.doc_type_confidence <= 1
    assert a.classifier in ("rules", "encoder")
    assert set(gold) <= set(a.fields)
    _check_offsets(text, a)


def test_note_has_no_doc_type_and_finds_entities():
    text = "Called Maria Gonzalez on Monday; she said Acme Logistics in Chicago still employs her."
    a = analyze(text)
    assert a.kind == "note" and a.doc_type is None and a.fields == {}
    labels = {(e.label, e.text) for e in a.entities}
    assert ("PERSON", "Maria Gonzalez") in labels
    assert any(lab == "GPE" and t == "Chicago" for lab, t in labels)
    _check_offsets(text, a)


def test_kind_can_be_forced():
    text = CASES["utility_bill"][0]
    assert analyze(text, kind="note").kind == "note"
    assert analyze(text, kind="note").doc_type is None
    assert analyze("just a short line", kind="document").kind == "document"


def test_rule_entities_money_and_dates():
    text = "Paid $1,234.56 on March 15, 2026 and USD 99.00 on 2026-04-01."
    a = analyze(text, kind="note")
    got = {(e.label, e.text) for e in a.entities}
    assert ("MONEY", "$1,234.56") in got and ("MONEY", "USD 99.00") in got
    assert ("DATE", "March 15, 2026") in got and ("DATE", "2026-04-01") in got


def test_unrelated_document_is_other():
    text = ("Recipe: Banana bread\nIngredients: 3 ripe bananas, 1/3 cup melted butter, 1 cup sugar\n"
            "Bake at 350F for 60 minutes.\nServes: 8\nPrep time: 15 minutes\n")
    a = analyze(text, kind="document")
    assert a.doc_type == "other"
    assert a.fields == {}


def test_uncertain_rules_fall_back_to_encoder():
    # no title, few labels: the keyword rules alone cannot decide
    text = "Kim Ortiz\nbalance 1,200.00\ncash out 300.00\nendng 900.00\n"
    a = analyze(text, kind="document")
    assert a.classifier == "encoder"
    assert a.doc_type in DOC_TYPES + ("other",)


def test_invalid_uscc_raises_fraud_indicator():
    good = CASES["business_license"][0]
    bad = good.replace("91110000600037341L", "91110000600037341X")
    a_good, a_bad = analyze_many([good, bad], kind="document")
    assert not [s for s in a_good.risk_signals if s.code == "FRAUD_INDICATOR"]
    fraud = [s for s in a_bad.risk_signals if s.code == "FRAUD_INDICATOR"]
    assert fraud and fraud[0].evidence.text == "91110000600037341X"
    assert fraud[0].polarity == "affirmed" and fraud[0].subject == "applicant"


def test_pii_from_fields():
    text, _ = CASES["id_document"]
    a = analyze(text)
    types = {p.type for p in a.pii}
    assert {"PERSON", "ID_NUMBER", "DATE_OF_BIRTH"} <= types


@pytest.mark.parametrize("text", [
    "", "   \n\t ", "\x00\x01\x02binary\xff\xfe junk \x7f", "<html><body><h1>Pay Stub</h1><p>Net Pay: $10</p></body></html>",
    "申请人表示她去年失业了，现在在一家餐厅兼职。", "Ünïcödé façade — naïve café ☕ 🚗" * 20, "a" * 50_000,
    "$$$ 1,2,3,4 ... ---- :::: ////", "\n" * 5000,
])
def test_garbage_never_raises(text):
    a = analyze(text)
    assert a.kind in ("document", "note")
    assert a.model_version
    _check_offsets(text, a)


def test_too_large_raises():
    limit = nlp.get_pipeline().max_chars
    with pytest.raises(TextTooLarge):
        analyze("x" * (limit + 1))


def test_bad_kind_rejected():
    with pytest.raises(ValueError):
        analyze("text", kind="poem")


def test_analyze_many_matches_single():
    texts = [CASES["pay_stub"][0], "short note about nothing", CASES["tax_return"][0]]
    many = analyze_many(texts)
    assert [m.model_dump() for m in many] == [analyze(t).model_dump() for t in texts]


def test_model_version_has_package_and_data_hash():
    v = analyze("x").model_version
    assert re.fullmatch(r"creditflow-nlp-[\w.]+\+[0-9a-f]{12}", v)


def test_pipeline_loads_once_even_from_threads():
    analyze("warm up")
    before = nlp.LOAD_COUNT
    errors: list[BaseException] = []

    def work() -> None:
        try:
            analyze(CASES["pay_stub"][0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert nlp.LOAD_COUNT == before == 1


def test_components_round_trip_to_disk(tmp_path):
    pipe = nlp.get_pipeline().nlp
    for name in ("creditflow_kind", "creditflow_doctype", "creditflow_fields", "creditflow_model_ner"):
        comp = pipe.get_pipe(name)
        comp.to_disk(tmp_path / name)
        comp.from_disk(tmp_path / name)
    # still works after reloading every component from its serialized data
    text, gold = CASES["bank_statement"]
    a = analyze(text)
    assert a.doc_type == "bank_statement" and a.fields["nsf_count"].value == gold["nsf_count"]
