"""Evaluate the Chinese pipeline: notes (risk signals, protected attributes) and documents.

    python -m creditflow.nlp.zh.evaluate [--split dev|test|both] [--no-card] [--json] [--errors]

Same metrics and targets as the English evaluations (creditflow.nlp.signals.evaluate and
creditflow.nlp.evaluate_documents): strict micro-F1 (code + polarity + subject) >= 0.90,
non-affirmed mentions reported as affirmed+applicant <= 5%, protected-attribute recall 1.0,
document-type accuracy >= 0.97, field accuracy >= 0.95. Everything goes through the public
`creditflow.nlp.analyze_many`, so the language routing is evaluated too. The model-card
section lives between `<!-- zh-eval:start -->` and `<!-- zh-eval:end -->` (appended if absent;
nothing else in the card is touched).

The scoring is the English modules' own (`score_notes`, `score_documents`), so a metric
cannot drift between languages; this module only loads the Chinese sets, runs the
Chinese pipeline, adds the Chinese-only checks (routed to zh, money in CNY) and writes its
report text.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from creditflow.nlp.contract import Analysis
from creditflow.nlp.evaluate_documents import field_slots, score_documents
from creditflow.nlp.signals.evaluate import NotesReport, format_report, score_notes, signal_rows

CARD_START = "<!-- zh-eval:start -->"
CARD_END = "<!-- zh-eval:end -->"
TARGETS = {"micro_f1": 0.90, "non_affirmed_as_affirmed_rate": 0.05, "protected_recall": 1.0,
           "doc_type_accuracy": 0.97, "field_accuracy": 0.95}


def eval_dir() -> Path:
    from creditflow.nlp.resources import nlp_dir

    return nlp_dir() / "eval"


def load(kind: str, split: str) -> list[dict[str, Any]]:
    path = eval_dir() / f"zh_{kind}_{split}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def evaluate_notes(split: str = "test") -> NotesReport:
    """Run the Chinese pipeline on zh_notes_{split}.jsonl and score it with the English notes metrics."""
    from creditflow.nlp.zh import analyze_zh, is_chinese
    from creditflow.nlp.zh.data import cached_data

    rows = load("notes", split)
    analyze_zh(["预热：申请人没有逾期记录。"], "note")  # load jieba outside the timed loop
    t0 = time.process_time()
    preds, prots = [], []
    for row in rows:
        assert is_chinese(row["text"]), row["id"]
        a = analyze_zh([row["text"]], "note", reference_year=row.get("reference_year"))[0]
        preds.append(signal_rows(a.risk_signals))
        prots.append([p.model_dump() for p in a.protected_attributes])
    elapsed = time.process_time() - t0
    return score_notes(split, rows, preds, prots, elapsed, cached_data().version)


def money_in_cny(docs: list[dict[str, Any]], results: list[Analysis]) -> bool:
    """True when every extracted amount whose gold value is money (a float) is in CNY or unmarked."""
    return all(got is None or not isinstance(d["fields"].get(f), float) or got.currency in ("CNY", None)
               for d, a in zip(docs, results, strict=True) for f, got in field_slots(d, a))


def evaluate_documents(split: str = "test") -> dict[str, Any]:
    """Doc type and field accuracy through the public analyze_many (routing included)."""
    from creditflow.nlp import analyze_many

    docs = load("documents", split)
    results = analyze_many([d["text"] for d in docs], kind="document")
    return {"split": split, **score_documents(docs, results),
            "language_zh": all(a.language == "zh" for a in results), "currency_cny": money_in_cny(docs, results)}


def render(notes: list[NotesReport], docs: list[dict[str, Any]]) -> str:
    from creditflow.nlp.zh import model_version

    lines = ["## Chinese (Simplified): documents and notes", "",
             "Texts with at least twice as many CJK characters as English words are routed to the Chinese pipeline "
             "(`creditflow.nlp.zh`: spaCy blank `zh` + jieba segmenter, pattern components, lexicons in "
             "`models/nlp/zh/`); mixed text also gets the other language's signals. Evaluation sets "
             "`models/nlp/eval/zh_{notes,documents}_{dev,test}.jsonl` from `models/nlp/eval/zh_generate.py` "
             "(hand-written core + seeded templates; test note frames are disjoint from dev frames; documents share "
             "layouts across splits, so document scores overstate accuracy on unseen real layouts). Lexicons were "
             "tuned on `dev` only, but the same engineer wrote the lexicons and the test frames and vocabulary: the "
             "test numbers are optimistic and say little about real officer notes. Same targets as English. Regenerate with `python -m creditflow.nlp.zh.evaluate`; "
             f"model `{model_version()}`.", ""]
    for r in docs:
        lines += [f"### Chinese documents - `{r['split']}` slice ({r['documents']} documents, {r['fields_evaluated']} field slots)", "",
                  f"- document-type accuracy: **{r['doc_type_accuracy']:.3f}** (target >= 0.97)",
                  f"- field accuracy: **{r['field_accuracy']:.3f}** (target >= 0.95); spurious fields: {r['spurious_fields']}; "
                  f"offsets valid: {r['offsets_valid']}; all routed to zh: {r['language_zh']}; money in CNY: {r['currency_cny']}",
                  f"- confusions: {r['confusions'] or 'none'}", ""]
        weak = {k: v for k, v in r["per_field"].items() if v < 1.0}
        lines += ["Fields below 1.000: " + (", ".join(f"`{k}` {v:.3f}" for k, v in weak.items()) or "none"), ""]
    for n in notes:
        lines += [format_report(n).replace("### Notes evaluation", "### Chinese notes"), ""]
    return "\n".join(lines).rstrip()


def write_card(section: str, card: Path | None = None) -> Path:
    card = card or eval_dir().parent / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    if CARD_START not in text or CARD_END not in text:
        text = text.rstrip("\n") + f"\n\n{CARD_START}\n{CARD_END}\n"
    head, rest = text.split(CARD_START, 1)
    _, tail = rest.split(CARD_END, 1)
    card.write_text(f"{head}{CARD_START}\n{section}\n{CARD_END}{tail}", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--no-card", action="store_true", help="do not update models/nlp/MODEL_CARD.md")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list wrong fields and signal mismatches")
    args = ap.parse_args(argv)
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    notes = [evaluate_notes(s) for s in splits]
    docs = [evaluate_documents(s) for s in splits]
    if args.json:
        print(json.dumps({"notes": [n.model_dump() for n in notes], "documents": docs}, indent=2, ensure_ascii=False))
    else:
        for d in docs:
            print(f"documents split={d['split']} n={d['documents']} doc_type_accuracy={d['doc_type_accuracy']:.4f} "
                  f"field_accuracy={d['field_accuracy']:.4f} spurious={d['spurious_fields']} offsets_valid={d['offsets_valid']}")
            for k, v in d["per_field"].items():
                print(f"  {k:40s} {v:.3f}")
            if d["confusions"]:
                print("  confusions:", d["confusions"])
            if args.errors:
                print("\n".join("  " + e for e in d["errors"]))
        for n in notes:
            print(format_report(n))
            print()
    if not args.no_card:
        print(f"model card section written: {write_card(render(notes, docs))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
