"""Evaluate risk signals and protected attributes on the labelled notes set.

    python -m creditflow.nlp.signals.evaluate [--split dev|test] [--no-card] [--json]

Why these numbers: a credit officer is hurt most by a mention that is NOT the applicant's
current problem being reported as one ("no late payments" counted as DELINQUENCY), so besides
per-code precision/recall and micro-F1 we report the rate at which negated, hypothetical,
historical or third-party mentions come out as affirmed+applicant, and how often neutral
vocabulary traps ("casino dealer") raise a counted signal. Protected-attribute recall must be
1.0: a missed mention may leak into a human judgement.

Alignment of predictions to gold, per note: greedy, first by same code and overlapping
evidence, then by same code. The strict micro-F1 counts a pair as correct only when code,
polarity and subject all agree.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from creditflow.nlp.contract import RISK_CODES
from creditflow.nlp.signals import find_protected, find_risk_signals, signals_version, warm_up

POLARITIES = ("affirmed", "negated", "hypothetical", "historical")
CARD_START = "<!-- notes-eval:start -->"
CARD_END = "<!-- notes-eval:end -->"


class CodeScore(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int


class NotesReport(BaseModel):
    split: str
    notes: int
    gold_signals: int
    predicted_signals: int
    micro_f1: float = Field(description="strict: code + polarity + subject must agree")
    micro_precision: float
    micro_recall: float
    detection_micro_f1: float = Field(description="code only")
    per_code: dict[str, CodeScore]
    polarity_confusion: dict[str, dict[str, int]]  # gold -> predicted (+ "missed"); row "spurious"
    subject_accuracy: float
    non_affirmed_as_affirmed_rate: float = Field(
        description="gold negated/hypothetical/historical/third-party mentions reported as affirmed+applicant")
    non_affirmed_total: int
    trap_false_alarm_rate: float = Field(description="neutral-vocabulary trap notes with a spurious counted signal")
    trap_notes: int
    protected_recall: float
    protected_precision: float
    protected_gold: int
    protected_missed: list[str]
    notes_per_second: float
    signals_version: str


def eval_dir() -> Path:
    from creditflow.config import get_settings

    return Path(get_settings().models_dir) / "nlp" / "eval"


def load_notes(split: str) -> list[dict]:
    rows: list[dict] = []
    for line in (eval_dir() / f"notes_{split}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def _align(gold: list[dict], pred: list[dict]) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    used_g: set[int] = set()
    used_p: set[int] = set()
    for overlap_needed in (True, False):
        for gi, g in enumerate(gold):
            if gi in used_g:
                continue
            best = None
            for pi, p in enumerate(pred):
                if pi in used_p or p["code"] != g["code"]:
                    continue
                overlaps = p["start"] < g["end"] and g["start"] < p["end"]
                if overlap_needed and not overlaps:
                    continue
                score = (p["polarity"] == g["polarity"]) + (p["subject"] == g["subject"])
                if best is None or score > best[0]:
                    best = (score, pi)
            if best is not None:
                pairs.append((gi, best[1]))
                used_g.add(gi)
                used_p.add(best[1])
    return pairs


def evaluate_notes(split: str = "test", write_card: bool = False) -> NotesReport:
    """Score the detectors on models/nlp/eval/notes_{split}.jsonl (optionally update the card)."""
    rows = load_notes(split)
    warm_up()  # compile lexicons and load the tokenizer outside the timed loop
    t0 = time.process_time()  # CPU time: the machine is shared, wall time would measure neighbours
    preds: list[list[dict]] = []
    prots: list[list[dict]] = []
    for row in rows:
        sigs = find_risk_signals(row["text"], row.get("kind", "note"), reference_year=row.get("reference_year"))
        preds.append([{"code": s.code, "polarity": s.polarity, "subject": s.subject,
                       "start": s.evidence.start, "end": s.evidence.end} for s in sigs])
        prots.append([p.model_dump() for p in find_protected(row["text"])])
    elapsed = time.process_time() - t0

    tp_code: Counter[str] = Counter()
    fp_code: Counter[str] = Counter()
    fn_code: Counter[str] = Counter()
    strict_tp = 0
    subject_ok = 0
    confusion: dict[str, dict[str, int]] = {g: {p: 0 for p in (*POLARITIES, "missed")} for g in POLARITIES}
    confusion["spurious"] = {p: 0 for p in POLARITIES}
    non_aff = leaked = 0
    trap_notes = trap_alarms = 0
    n_gold = n_pred = 0
    prot_gold = prot_hit = 0
    prot_pred = prot_pred_ok = 0
    missed_prot: list[str] = []

    for row, pred, prot in zip(rows, preds, prots):
        gold = row["signals"]
        n_gold += len(gold)
        n_pred += len(pred)
        pairs = _align(gold, pred)
        matched_g = {g for g, _ in pairs}
        matched_p = {p for _, p in pairs}
        for gi, pi in pairs:
            g, p = gold[gi], pred[pi]
            tp_code[g["code"]] += 1
            confusion[g["polarity"]][p["polarity"]] += 1
            if p["subject"] == g["subject"]:
                subject_ok += 1
                if p["polarity"] == g["polarity"]:
                    strict_tp += 1
        for gi, g in enumerate(gold):
            if gi not in matched_g:
                fn_code[g["code"]] += 1
                confusion[g["polarity"]]["missed"] += 1
            if g["polarity"] != "affirmed" or g["subject"] != "applicant":
                non_aff += 1
                hit = [pi for gg, pi in pairs if gg == gi]
                if hit and pred[hit[0]]["polarity"] == "affirmed" and pred[hit[0]]["subject"] == "applicant":
                    leaked += 1
        spurious_counted = False
        for pi, p in enumerate(pred):
            if pi not in matched_p:
                fp_code[p["code"]] += 1
                confusion["spurious"][p["polarity"]] += 1
                if p["polarity"] == "affirmed" and p["subject"] == "applicant":
                    spurious_counted = True
        if "trap" in row.get("tags", []):
            trap_notes += 1
            trap_alarms += spurious_counted
        for gp in row["protected"]:
            prot_gold += 1
            if any(pp["category"] == gp["category"] and pp["start"] < gp["end"] and gp["start"] < pp["end"] for pp in prot):
                prot_hit += 1
            else:
                missed_prot.append(f"{row['id']}: {gp['category']} {gp['text']!r}")
        for pp in prot:
            prot_pred += 1
            prot_pred_ok += any(pp["category"] == gp["category"] and pp["start"] < gp["end"] and gp["start"] < pp["end"]
                                for gp in row["protected"])

    per_code: dict[str, CodeScore] = {}
    for code in RISK_CODES:
        p = _ratio(tp_code[code], tp_code[code] + fp_code[code])
        r = _ratio(tp_code[code], tp_code[code] + fn_code[code])
        per_code[code] = CodeScore(precision=round(p, 4), recall=round(r, 4), f1=round(_f1(p, r), 4),
                                   support=tp_code[code] + fn_code[code])
    tp_all = sum(tp_code.values())
    micro_p, micro_r = _ratio(strict_tp, n_pred), _ratio(strict_tp, n_gold)
    report = NotesReport(
        split=split, notes=len(rows), gold_signals=n_gold, predicted_signals=n_pred,
        micro_f1=round(_f1(micro_p, micro_r), 4), micro_precision=round(micro_p, 4), micro_recall=round(micro_r, 4),
        detection_micro_f1=round(_f1(_ratio(tp_all, n_pred), _ratio(tp_all, n_gold)), 4),
        per_code=per_code, polarity_confusion=confusion,
        subject_accuracy=round(_ratio(subject_ok, tp_all), 4),
        non_affirmed_as_affirmed_rate=round(leaked / non_aff, 4) if non_aff else 0.0, non_affirmed_total=non_aff,
        trap_false_alarm_rate=round(trap_alarms / trap_notes, 4) if trap_notes else 0.0, trap_notes=trap_notes,
        protected_recall=round(_ratio(prot_hit, prot_gold), 4),
        protected_precision=round(_ratio(prot_pred_ok, prot_pred), 4), protected_gold=prot_gold,
        protected_missed=missed_prot, notes_per_second=round(len(rows) / elapsed, 1) if elapsed else 0.0,
        signals_version=signals_version(),
    )
    if write_card:
        write_model_card([report])
    return report


def format_report(r: NotesReport) -> str:
    lines = [f"### Notes evaluation - `{r.split}` slice ({r.notes} notes, {r.gold_signals} gold signals)", ""]
    lines += [f"- micro-F1 (code + polarity + subject): **{r.micro_f1:.3f}** "
              f"(P {r.micro_precision:.3f}, R {r.micro_recall:.3f}); code-only micro-F1 {r.detection_micro_f1:.3f}",
              f"- negated / hypothetical / historical / third-party mentions reported as affirmed+applicant: "
              f"**{r.non_affirmed_as_affirmed_rate:.1%}** of {r.non_affirmed_total}",
              f"- neutral-vocabulary trap notes with a spurious counted signal: {r.trap_false_alarm_rate:.1%} of {r.trap_notes}",
              f"- subject accuracy on matched signals: {r.subject_accuracy:.3f}",
              f"- protected-attribute recall: **{r.protected_recall:.3f}** ({r.protected_gold} mentions; "
              f"precision {r.protected_precision:.3f})",
              f"- throughput (risk + protected on these notes, CPU time of one core): {r.notes_per_second:,.0f} notes/s",
              f"- lexicon version: `{r.signals_version}`", "",
              "| code | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for code, s in r.per_code.items():
        lines.append(f"| {code} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |")
    lines += ["", "Polarity confusion (rows gold, columns predicted; `spurious` = predicted with no gold):", "",
              "| gold \\ predicted | " + " | ".join(POLARITIES) + " | missed |", "|---" * 6 + "|"]
    for g, row in r.polarity_confusion.items():
        lines.append(f"| {g} | " + " | ".join(str(row.get(p, "")) for p in (*POLARITIES, "missed")) + " |")
    if r.protected_missed:
        lines += ["", "Missed protected mentions: " + "; ".join(r.protected_missed)]
    return "\n".join(lines)


def write_model_card(reports: list[NotesReport], path: Path | None = None) -> Path:
    """Replace only the text between our markers in models/nlp/MODEL_CARD.md (create if absent)."""
    card = path or (eval_dir().parent / "MODEL_CARD.md")
    text = card.read_text(encoding="utf-8") if card.exists() else f"{CARD_START}\n{CARD_END}\n"
    if CARD_START not in text or CARD_END not in text:
        text = text.rstrip("\n") + f"\n\n{CARD_START}\n{CARD_END}\n"
    body = ["## Risk signals and protected attributes (notes)", "",
            "ConText-style rules over spaCy's blank English tokenizer (lexicons in `models/nlp/signals/`). "
            "Evaluation set: `models/nlp/eval/notes_{dev,test}.jsonl`, a hand-written core plus seeded template "
            "notes (`generate_notes.py`); test templates are disjoint from dev templates and the test slice is not "
            "used for tuning. The lexicons were tuned on `dev`, so its scores are optimistic by construction; "
            "`test` is the honest number. Historical years are judged against reference year 2025 (pinned in the "
            "set; at run time the current year is used). Regenerate this section with "
            "`python -m creditflow.nlp.signals.evaluate`.", ""]
    for r in reports:
        body += [format_report(r), ""]
    head, rest = text.split(CARD_START, 1)
    _, tail = rest.split(CARD_END, 1)
    card.write_text(f"{head}{CARD_START}\n" + "\n".join(body).rstrip() + f"\n{CARD_END}{tail}", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--no-card", action="store_true", help="do not update models/nlp/MODEL_CARD.md")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = ap.parse_args(argv)
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    reports = [evaluate_notes(s) for s in splits]
    if args.json:
        print(json.dumps([r.model_dump() for r in reports], indent=2))
    else:
        for r in reports:
            print(format_report(r))
            print()
    if not args.no_card:
        print(f"model card section written: {write_model_card(reports)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
