"""Evaluation targets on the held-out test slice, the data gatekeeper and the model-card writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from creditflow.config import REPO_ROOT
from creditflow.nlp.contract import PROTECTED_CATEGORIES, RISK_CODES, Evidence, RiskSignal
from creditflow.nlp.signals.data import load_data
from creditflow.nlp.signals.evaluate import (CARD_END, CARD_START, evaluate_notes, load_notes, score_notes, signal_rows,
                                             write_model_card)

SIGNALS_DIR = REPO_ROOT / "models" / "nlp" / "signals"


@pytest.fixture(scope="module")
def test_report():  # type: ignore[no-untyped-def]
    return evaluate_notes("test")


def test_eval_set_size_and_coverage() -> None:
    rows = load_notes("dev") + load_notes("test")
    assert len(rows) >= 400
    assert sum(r["source"] == "hand" for r in rows) >= 120
    gold = [s for r in rows for s in r["signals"]]
    assert {s["code"] for s in gold} == set(RISK_CODES)
    assert {s["polarity"] for s in gold} == {"affirmed", "negated", "hypothetical", "historical"}
    assert {s["subject"] for s in gold} == {"applicant", "third_party"}
    assert {p["category"] for r in rows for p in r["protected"]} == set(PROTECTED_CATEGORIES)
    assert any(len(r["signals"]) >= 2 for r in rows)
    assert sum("trap" in r["tags"] for r in rows) >= 30
    for r in rows:  # gold offsets are exact
        for s in r["signals"]:
            assert r["text"][s["start"]:s["end"]] == s["cue"]
        for p in r["protected"]:
            assert r["text"][p["start"]:p["end"]] == p["text"]


def test_dev_and_test_do_not_share_notes() -> None:
    dev = {r["text"] for r in load_notes("dev")}
    test = {r["text"] for r in load_notes("test")}
    assert not dev & test


def test_micro_f1_target_on_test_slice(test_report) -> None:  # type: ignore[no-untyped-def]
    assert test_report.micro_f1 >= 0.90, test_report.micro_f1


def test_non_affirmed_mentions_rarely_reported_as_affirmed(test_report) -> None:  # type: ignore[no-untyped-def]
    assert test_report.non_affirmed_total > 50
    assert test_report.non_affirmed_as_affirmed_rate <= 0.05


def test_protected_attribute_recall_is_one(test_report) -> None:  # type: ignore[no-untyped-def]
    assert test_report.protected_gold > 30
    assert test_report.protected_recall == 1.0, test_report.protected_missed


def test_model_card_section_is_replaced_between_markers_only(tmp_path: Path, test_report) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(f"# NLP model card\n\nintro by the other engineer\n\n{CARD_START}\nSTALE-SECTION-1234\n{CARD_END}\n\n## Tail\nkept\n")
    write_model_card([test_report], card)
    text = card.read_text()
    assert text.startswith("# NLP model card\n\nintro by the other engineer\n")
    assert text.rstrip().endswith("## Tail\nkept")
    inner = text.split(CARD_START)[1].split(CARD_END)[0]
    assert "STALE-SECTION-1234" not in inner and "micro-F1" in inner and "protected-attribute recall" in inner
    write_model_card([test_report], card)  # idempotent: one section only
    assert card.read_text().count(CARD_START) == 1


def test_model_card_is_created_when_absent(tmp_path: Path, test_report) -> None:  # type: ignore[no-untyped-def]
    card = write_model_card([test_report], tmp_path / "NEW.md")
    assert CARD_START in card.read_text() and CARD_END in card.read_text()


def _signal(code: str, polarity: str, subject: str, start: int, end: int) -> RiskSignal:
    return RiskSignal(code=code, polarity=polarity, subject=subject, severity="medium",  # type: ignore[arg-type]
                      evidence=Evidence(text="x" * (end - start), start=start, end=end))


def test_score_notes_on_a_hand_made_example() -> None:
    """Two notes whose every count is worked out by hand; English and Chinese evaluators both score with this."""
    rows = [
        {"id": "n1", "tags": [], "signals": [
            {"code": "DELINQUENCY", "polarity": "affirmed", "subject": "applicant", "start": 0, "end": 10},
            {"code": "GAMBLING", "polarity": "negated", "subject": "applicant", "start": 20, "end": 30}],
         "protected": [{"category": "age", "start": 40, "end": 45, "text": "aged"}]},
        {"id": "n2", "tags": ["trap"], "signals": [
            {"code": "DELINQUENCY", "polarity": "affirmed", "subject": "third_party", "start": 0, "end": 5}],
         "protected": [{"category": "religion", "start": 10, "end": 15, "text": "faith"}]},
    ]
    preds = [
        signal_rows([_signal("DELINQUENCY", "affirmed", "applicant", 2, 8),  # strict match
                     _signal("GAMBLING", "affirmed", "applicant", 22, 28)]),  # negated gold reported as affirmed
        signal_rows([_signal("GAMBLING", "affirmed", "applicant", 50, 55)]),  # spurious in a trap note; gold missed
    ]
    prots = [[{"category": "age", "start": 41, "end": 44}], [{"category": "age", "start": 10, "end": 15}]]
    r = score_notes("hand", rows, preds, prots, 0.5, "v-hand")

    assert preds[0][1] == {"code": "GAMBLING", "polarity": "affirmed", "subject": "applicant", "start": 22, "end": 28}
    assert (r.split, r.notes, r.gold_signals, r.predicted_signals) == ("hand", 2, 3, 3)
    assert (r.micro_precision, r.micro_recall, r.micro_f1) == (0.3333, 0.3333, 0.3333)  # 1 strict of 3 and 3
    assert r.detection_micro_f1 == 0.6667  # 2 code matches
    assert r.per_code["DELINQUENCY"].model_dump() == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert r.per_code["GAMBLING"].model_dump() == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert r.per_code["BANKRUPTCY"].model_dump() == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 0}
    assert r.polarity_confusion["affirmed"] == {"affirmed": 1, "negated": 0, "hypothetical": 0, "historical": 0,
                                                "missed": 1}
    assert r.polarity_confusion["negated"]["affirmed"] == 1
    assert r.polarity_confusion["spurious"] == {"affirmed": 1, "negated": 0, "hypothetical": 0, "historical": 0}
    assert r.subject_accuracy == 1.0
    assert (r.non_affirmed_total, r.non_affirmed_as_affirmed_rate) == (2, 0.5)  # negated leaked, third-party missed
    assert (r.trap_notes, r.trap_false_alarm_rate) == (1, 1.0)
    assert (r.protected_gold, r.protected_recall, r.protected_precision) == (2, 0.5, 0.5)
    assert r.protected_missed == ["n2: religion 'faith'"]
    assert (r.notes_per_second, r.signals_version) == (4.0, "v-hand")
    with pytest.raises(ValueError):  # one prediction list short: refused, not scored on the shorter zip
        score_notes("hand", rows, preds[:1], prots, 0.5, "v-hand")


def test_bad_lexicon_fails_at_load(tmp_path: Path) -> None:
    for f in SIGNALS_DIR.glob("*.yml"):
        shutil.copy(f, tmp_path / f.name)
    load_data(tmp_path)  # the shipped copy loads
    tax = (tmp_path / "risk_taxonomy.yml").read_text()
    (tmp_path / "risk_taxonomy.yml").write_text(tax.replace("      - 'laid off'", "      - 'laid (off'"))
    with pytest.raises(ValueError, match="bad regular expression"):
        load_data(tmp_path)
    (tmp_path / "risk_taxonomy.yml").write_text(tax.replace("  GAMBLING:", "  WAGERING:"))
    with pytest.raises(ValueError, match="risk codes differ"):
        load_data(tmp_path)


def test_version_changes_with_the_data(tmp_path: Path) -> None:
    for f in SIGNALS_DIR.glob("*.yml"):
        shutil.copy(f, tmp_path / f.name)
    v1 = load_data(tmp_path).version
    p = tmp_path / "context_rules.yml"
    p.write_text(p.read_text() + "\n")
    assert load_data(tmp_path).version != v1


def test_eval_rows_are_json_with_reference_year() -> None:
    raw = (REPO_ROOT / "models" / "nlp" / "eval" / "notes_test.jsonl").read_text().splitlines()
    assert all(json.loads(line)["reference_year"] == 2025 for line in raw if line)
