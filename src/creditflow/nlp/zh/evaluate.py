"""Evaluate the Chinese pipeline: notes (risk signals, protected attributes) and documents.

    python -m creditflow.nlp.zh.evaluate [--split dev|test|both] [--no-card] [--json] [--errors]

Same metrics and targets as the English evaluations (creditflow.nlp.signals.evaluate and
creditflow.nlp.evaluate_documents): strict micro-F1 (code + polarity + subject) >= 0.90,
non-affirmed mentions reported as affirmed+applicant <= 5%, protected-attribute recall 1.0,
document-type accuracy >= 0.97, field accuracy >= 0.95. Everything goes through the public
`creditflow.nlp.analyze_many`, so the language routing is evaluated too. The model-card
section lives between `<!-- zh-eval:start -->` and `<!-- zh-eval:end -->` (appended if absent;
nothing else in the card is touched).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from creditflow.nlp.contract import FIELDS_BY_DOC_TYPE, RISK_CODES
from creditflow.nlp.evaluate_documents import same
from creditflow.nlp.signals.evaluate import POLARITIES, CodeScore, NotesReport, _align, _f1, _ratio, format_report

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
    from creditflow.nlp.zh import analyze_zh, is_chinese
    from creditflow.nlp.zh.data import cached_data

    rows = load("notes", split)
    analyze_zh(["预热：申请人没有逾期记录。"], "note")  # load jieba outside the timed loop
    t0 = time.process_time()
    preds, prots = [], []
    for row in rows:
        assert is_chinese(row["text"]), row["id"]
        a = analyze_zh([row["text"]], "note", reference_year=row.get("reference_year"))[0]
        preds.append([{"code": s.code, "polarity": s.polarity, "subject": s.subject, "start": s.evidence.start,
                       "end": s.evidence.end} for s in a.risk_signals])
        prots.append([p.model_dump() for p in a.protected_attributes])
    elapsed = time.process_time() - t0
    return score_notes(split, rows, preds, prots, elapsed, cached_data().version)


def score_notes(split: str, rows: list[dict], preds: list[list[dict]], prots: list[list[dict]], elapsed: float,
                version: str) -> NotesReport:
    """The English notes scoring (same alignment, same definitions) over given predictions."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    strict = subject_ok = non_aff = leaked = trap_notes = trap_alarms = n_gold = n_pred = 0
    confusion: dict[str, dict[str, int]] = {g: {p: 0 for p in (*POLARITIES, "missed")} for g in POLARITIES}
    confusion["spurious"] = {p: 0 for p in POLARITIES}
    prot_gold = prot_hit = prot_pred = prot_ok = 0
    missed: list[str] = []
    for row, pred, prot in zip(rows, preds, prots):
        gold = row["signals"]
        n_gold += len(gold)
        n_pred += len(pred)
        pairs = _align(gold, pred)
        mg, mp = {g for g, _ in pairs}, {p for _, p in pairs}
        for gi, pi in pairs:
            g, p = gold[gi], pred[pi]
            tp[g["code"]] += 1
            confusion[g["polarity"]][p["polarity"]] += 1
            if p["subject"] == g["subject"]:
                subject_ok += 1
                strict += p["polarity"] == g["polarity"]
        for gi, g in enumerate(gold):
            if gi not in mg:
                fn[g["code"]] += 1
                confusion[g["polarity"]]["missed"] += 1
            if g["polarity"] != "affirmed" or g["subject"] != "applicant":
                non_aff += 1
                hit = [pi for gg, pi in pairs if gg == gi]
                if hit and pred[hit[0]]["polarity"] == "affirmed" and pred[hit[0]]["subject"] == "applicant":
                    leaked += 1
        counted = False
        for pi, p in enumerate(pred):
            if pi not in mp:
                fp[p["code"]] += 1
                confusion["spurious"][p["polarity"]] += 1
                counted = counted or (p["polarity"] == "affirmed" and p["subject"] == "applicant")
        if "trap" in row.get("tags", []):
            trap_notes += 1
            trap_alarms += counted
        for gp in row["protected"]:
            prot_gold += 1
            if any(pp["category"] == gp["category"] and pp["start"] < gp["end"] and gp["start"] < pp["end"] for pp in prot):
                prot_hit += 1
            else:
                missed.append(f"{row['id']}: {gp['category']} {gp['text']!r}")
        for pp in prot:
            prot_pred += 1
            prot_ok += any(pp["category"] == gp["category"] and pp["start"] < gp["end"] and gp["start"] < pp["end"]
                           for gp in row["protected"])
    per_code = {}
    for code in RISK_CODES:
        p, r = _ratio(tp[code], tp[code] + fp[code]), _ratio(tp[code], tp[code] + fn[code])
        per_code[code] = CodeScore(precision=round(p, 4), recall=round(r, 4), f1=round(_f1(p, r), 4),
                                   support=tp[code] + fn[code])
    tp_all = sum(tp.values())
    mp_, mr_ = _ratio(strict, n_pred), _ratio(strict, n_gold)
    return NotesReport(
        split=split, notes=len(rows), gold_signals=n_gold, predicted_signals=n_pred, micro_f1=round(_f1(mp_, mr_), 4),
        micro_precision=round(mp_, 4), micro_recall=round(mr_, 4),
        detection_micro_f1=round(_f1(_ratio(tp_all, n_pred), _ratio(tp_all, n_gold)), 4), per_code=per_code,
        polarity_confusion=confusion, subject_accuracy=round(_ratio(subject_ok, tp_all), 4),
        non_affirmed_as_affirmed_rate=round(leaked / non_aff, 4) if non_aff else 0.0, non_affirmed_total=non_aff,
        trap_false_alarm_rate=round(trap_alarms / trap_notes, 4) if trap_notes else 0.0, trap_notes=trap_notes,
        protected_recall=round(_ratio(prot_hit, prot_gold), 4), protected_precision=round(_ratio(prot_ok, prot_pred), 4),
        protected_gold=prot_gold, protected_missed=missed,
        notes_per_second=round(len(rows) / elapsed, 1) if elapsed else 0.0, signals_version=version)


def evaluate_documents(split: str = "test") -> dict[str, Any]:
    """Doc type and field accuracy through the public analyze_many (routing included)."""
    from creditflow.nlp import analyze_many

    docs = load("documents", split)
    results = analyze_many([d["text"] for d in docs], kind="document")
    type_ok = spurious = 0
    confusion: Counter[str] = Counter()
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors: list[str] = []
    offsets_ok = language_ok = True
    currency_ok = True
    for d, a in zip(docs, results):
        language_ok = language_ok and a.language == "zh"
        if a.doc_type == d["doc_type"]:
            type_ok += 1
        else:
            confusion[f"{d['doc_type']}->{a.doc_type}"] += 1
        if d["doc_type"] == "other":
            continue
        for f in FIELDS_BY_DOC_TYPE[d["doc_type"]]:
            got = a.fields.get(f)
            key = f"{d['doc_type']}.{f}"
            per_field[key][1] += 1
            if f in d["fields"]:
                ok = got is not None and same(got.value, d["fields"][f])
            else:
                ok = got is None
                spurious += got is not None
            per_field[key][0] += int(ok)
            if not ok:
                errors.append(f"{d['id']} {f}: gold={d['fields'].get(f)!r} got={got.value if got else None!r}")
            if got is not None and not (0 <= got.start <= got.end <= len(d["text"])):
                offsets_ok = False
            if got is not None and isinstance(d["fields"].get(f), float) and got.currency not in ("CNY", None):
                currency_ok = False
    n = sum(t for _, t in per_field.values())
    return {"split": split, "documents": len(docs), "doc_type_accuracy": round(type_ok / len(docs), 4),
            "field_accuracy": round(sum(c for c, _ in per_field.values()) / max(n, 1), 4), "fields_evaluated": n,
            "spurious_fields": spurious, "offsets_valid": offsets_ok, "language_zh": language_ok,
            "currency_cny": currency_ok, "per_field": {k: round(c / t, 4) for k, (c, t) in sorted(per_field.items())},
            "confusions": dict(confusion), "errors": errors}


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
