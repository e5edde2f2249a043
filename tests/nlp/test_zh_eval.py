"""The Chinese evaluation set, its targets on the held-out test slice and the model-card writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditflow.nlp.contract import DOC_TYPES, PROTECTED_CATEGORIES, RISK_CODES, Analysis, FieldValue
from creditflow.nlp.evaluate_documents import score_documents
from creditflow.nlp.zh.evaluate import (CARD_END, CARD_START, TARGETS, evaluate_documents, evaluate_notes, load,
                                        money_in_cny, render, write_card)


@pytest.fixture(scope="module")
def notes_report():  # type: ignore[no-untyped-def]
    return evaluate_notes("test")


@pytest.fixture(scope="module")
def docs_report():  # type: ignore[no-untyped-def]
    return evaluate_documents("test")


def test_set_sizes_coverage_and_exact_gold_offsets() -> None:
    notes = load("notes", "dev") + load("notes", "test")
    docs = load("documents", "dev") + load("documents", "test")
    assert len(notes) >= 150 and len(docs) >= 80
    assert sum(r["source"] == "hand" for r in notes) >= 40
    gold = [s for r in notes for s in r["signals"]]
    assert {s["code"] for s in gold} == set(RISK_CODES)
    assert {s["polarity"] for s in gold} == {"affirmed", "negated", "hypothetical", "historical"}
    assert {s["subject"] for s in gold} == {"applicant", "third_party"}
    assert {p["category"] for r in notes for p in r["protected"]} == set(PROTECTED_CATEGORIES)
    assert sum("trap" in r["tags"] for r in notes) >= 15
    assert {d["doc_type"] for d in docs} == set(DOC_TYPES) | {"other"}
    for r in notes:
        for s in r["signals"]:
            assert r["text"][s["start"]:s["end"]] == s["cue"]
        for p in r["protected"]:
            assert r["text"][p["start"]:p["end"]] == p["text"]


def test_dev_and_test_are_disjoint() -> None:
    for kind, key in (("notes", "text"), ("documents", "id")):
        assert not {r[key] for r in load(kind, "dev")} & {r[key] for r in load(kind, "test")}


def test_notes_targets_on_test_slice(notes_report) -> None:  # type: ignore[no-untyped-def]
    assert notes_report.notes >= 100
    assert notes_report.micro_f1 >= TARGETS["micro_f1"], notes_report.micro_f1
    assert notes_report.non_affirmed_total > 50
    assert notes_report.non_affirmed_as_affirmed_rate <= TARGETS["non_affirmed_as_affirmed_rate"]
    assert notes_report.protected_recall == 1.0, notes_report.protected_missed


def test_document_targets_on_test_slice(docs_report) -> None:  # type: ignore[no-untyped-def]
    assert docs_report["documents"] >= 40
    assert docs_report["doc_type_accuracy"] >= TARGETS["doc_type_accuracy"], docs_report["confusions"]
    assert docs_report["field_accuracy"] >= TARGETS["field_accuracy"], docs_report["errors"]
    assert docs_report["offsets_valid"] and docs_report["language_zh"] and docs_report["currency_cny"]


def test_card_section_between_markers_only(tmp_path: Path, notes_report, docs_report) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# card\n\nother sections\n<!-- notes-eval:start -->\nkeep me\n<!-- notes-eval:end -->\n")
    section = render([notes_report], [docs_report])
    write_card(section, card)  # markers absent: appended at the end
    text = card.read_text()
    assert text.startswith("# card\n\nother sections\n<!-- notes-eval:start -->\nkeep me\n<!-- notes-eval:end -->")
    assert text.count(CARD_START) == 1 and "Chinese notes" in text and "document-type accuracy" in text
    card.write_text(text.replace("Chinese notes", "STALE") + "\n## Tail\nkept\n")
    write_card(section, card)  # replaced in place, tail kept
    again = card.read_text()
    assert again.count(CARD_START) == 1 and again.count(CARD_END) == 1 and "STALE" not in again
    assert again.rstrip().endswith("## Tail\nkept")


def _value(value: float | str, start: int, end: int, currency: str | None = None) -> FieldValue:
    return FieldValue(value=value, start=start, end=end, confidence=0.9, currency=currency)


def test_document_scoring_on_a_hand_made_example() -> None:
    """The shared English document scorer and the Chinese money check, counted by hand on three documents."""
    docs = [
        {"id": "a", "doc_type": "utility_bill", "text": "Customer: Li Wei  Amount due: 120.50",
         "fields": {"customer_name": "Li Wei", "amount_due": 120.5}},
        {"id": "b", "doc_type": "tax_return", "text": "Taxpayer Ann, tax year 2023",
         "fields": {"taxpayer_name": "Ann", "tax_year": 2023}},
        {"id": "c", "doc_type": "other", "text": "a menu", "fields": {}},
    ]
    results = [
        Analysis(kind="document", model_version="t", doc_type_confidence=0.9, doc_type="utility_bill", fields={
            "customer_name": _value("li wei.", 10, 16),  # case and dots do not matter
            "amount_due": _value(120.504, 30, 36, "USD")}),  # within half a cent
        Analysis(kind="document", model_version="t", doc_type_confidence=0.9, doc_type="pay_stub", fields={
            "taxpayer_name": _value("Bob", 9, 12), "tax_year": _value(2023, 23, 27, "USD"),
            "adjusted_gross_income": _value(5.0, 20, 99)}),  # not in the document, and past its end
        Analysis(kind="document", model_version="t", doc_type_confidence=0.9, doc_type="other"),
    ]
    s = score_documents(docs, results)
    assert s == {
        "documents": 3, "doc_type_accuracy": 0.6667, "field_accuracy": 0.6, "fields_evaluated": 5,
        "spurious_fields": 1, "offsets_valid": False,
        "per_field": {"tax_return.adjusted_gross_income": 0.0, "tax_return.tax_year": 1.0,
                      "tax_return.taxpayer_name": 0.0, "utility_bill.amount_due": 1.0,
                      "utility_bill.customer_name": 1.0},
        "confusions": {"tax_return->pay_stub": 1},
        "errors": ["b taxpayer_name: gold='Ann' got='Bob'", "b adjusted_gross_income: gold=None got=5.0"],
    }
    with pytest.raises(ValueError):  # a missing analysis is refused, not silently left out
        score_documents(docs, results[:2])
    assert money_in_cny(docs, results) is False  # a gold money amount came out in USD
    results[0].fields["amount_due"].currency = "CNY"
    assert money_in_cny(docs, results)  # the USD on a year (not money) and on a spurious field do not count
