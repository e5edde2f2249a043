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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from creditflow.nlp.contract import RISK_CODES, RiskSignal
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


def signal_rows(signals: Iterable[RiskSignal]) -> list[dict]:
    """Detected signals as the plain rows `score_notes` aligns with gold (one shape for every language)."""
    return [{"code": s.code, "polarity": s.polarity, "subject": s.subject,
             "start": s.evidence.start, "end": s.evidence.end} for s in signals]


def evaluate_notes(split: str = "test", write_card: bool = False) -> NotesReport:
    """Score the detectors on models/nlp/eval/notes_{split}.jsonl (optionally update the card)."""
    rows = load_notes(split)
    warm_up()  # compile lexicons and load the tokenizer outside the timed loop
    t0 = time.process_time()  # CPU time: the machine is shared, wall time would measure neighbours
    preds: list[list[dict]] = []
    prots: list[list[dict]] = []
    for row in rows:
        sigs = find_risk_signals(row["text"], row.get("kind", "note"), reference_year=row.get("reference_year"))
        preds.append(signal_rows(sigs))
        prots.append([p.model_dump() for p in find_protected(row["text"])])
    elapsed = time.process_time() - t0
    report = score_notes(split, rows, preds, prots, elapsed, signals_version())
    if write_card:
        write_model_card([report])
    return report


@dataclass
class _Tally:
    """Running counts over notes; kept apart from the loop so each rule of the metric reads on its own."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    confusion: dict[str, dict[str, int]] = field(default_factory=lambda: {
        **{g: {p: 0 for p in (*POLARITIES, "missed")} for g in POLARITIES},
        "spurious": {p: 0 for p in POLARITIES}})
    n_gold: int = 0
    n_pred: int = 0
    strict_tp: int = 0
    subject_ok: int = 0
    non_aff: int = 0
    leaked: int = 0
    trap_notes: int = 0
    trap_alarms: int = 0
    prot_gold: int = 0
    prot_hit: int = 0
    prot_pred: int = 0
    prot_pred_ok: int = 0
    missed_prot: list[str] = field(default_factory=list)


def _counts_against(s: dict) -> bool:
    return s["polarity"] == "affirmed" and s["subject"] == "applicant"


def _tally_signals(t: _Tally, row: dict, pred: list[dict]) -> None:
    gold = row["signals"]
    t.n_gold += len(gold)
    t.n_pred += len(pred)
    pairs = _align(gold, pred)
    matched_g = {g for g, _ in pairs}
    matched_p = {p for _, p in pairs}
    for gi, pi in pairs:
        g, p = gold[gi], pred[pi]
        t.tp[g["code"]] += 1
        t.confusion[g["polarity"]][p["polarity"]] += 1
        if p["subject"] == g["subject"]:
            t.subject_ok += 1
            t.strict_tp += p["polarity"] == g["polarity"]
    for gi, g in enumerate(gold):
        if gi not in matched_g:
            t.fn[g["code"]] += 1
            t.confusion[g["polarity"]]["missed"] += 1
        if not _counts_against(g):  # negated, hypothetical, historical or third-party
            t.non_aff += 1
            hit = [pi for gg, pi in pairs if gg == gi]
            t.leaked += bool(hit) and _counts_against(pred[hit[0]])
    spurious_counted = False
    for pi, p in enumerate(pred):
        if pi not in matched_p:
            t.fp[p["code"]] += 1
            t.confusion["spurious"][p["polarity"]] += 1
            spurious_counted = spurious_counted or _counts_against(p)
    if "trap" in row.get("tags", []):
        t.trap_notes += 1
        t.trap_alarms += spurious_counted


def _overlaps_same_category(a: dict, b: dict) -> bool:
    return a["category"] == b["category"] and a["start"] < b["end"] and b["start"] < a["end"]


def _tally_protected(t: _Tally, row: dict, prot: list[dict]) -> None:
    for gp in row["protected"]:
        t.prot_gold += 1
        if any(_overlaps_same_category(pp, gp) for pp in prot):
            t.prot_hit += 1
        else:
            t.missed_prot.append(f"{row['id']}: {gp['category']} {gp['text']!r}")
    for pp in prot:
        t.prot_pred += 1
        t.prot_pred_ok += any(_overlaps_same_category(pp, gp) for gp in row["protected"])


def score_notes(split: str, rows: list[dict], preds: list[list[dict]], prots: list[list[dict]], elapsed: float,
                version: str) -> NotesReport:
    """The notes metrics, for any language: gold rows (`signals`, `protected`, `tags`, `id`) against predictions.

    `preds[i]` are `signal_rows` of note i, `prots[i]` its protected mentions as dicts (category, start, end);
    `elapsed` (CPU seconds of the detection loop) and `version` (lexicon version) are only reported.
    """
    t = _Tally()
    for row, pred, prot in zip(rows, preds, prots, strict=True):  # a short list would skew every rate
        _tally_signals(t, row, pred)
        _tally_protected(t, row, prot)
    per_code: dict[str, CodeScore] = {}
    for code in RISK_CODES:
        p = _ratio(t.tp[code], t.tp[code] + t.fp[code])
        r = _ratio(t.tp[code], t.tp[code] + t.fn[code])
        per_code[code] = CodeScore(precision=round(p, 4), recall=round(r, 4), f1=round(_f1(p, r), 4),
                                   support=t.tp[code] + t.fn[code])
    tp_all = sum(t.tp.values())
    micro_p, micro_r = _ratio(t.strict_tp, t.n_pred), _ratio(t.strict_tp, t.n_gold)
    return NotesReport(
        split=split, notes=len(rows), gold_signals=t.n_gold, predicted_signals=t.n_pred,
        micro_f1=round(_f1(micro_p, micro_r), 4), micro_precision=round(micro_p, 4), micro_recall=round(micro_r, 4),
        detection_micro_f1=round(_f1(_ratio(tp_all, t.n_pred), _ratio(tp_all, t.n_gold)), 4),
        per_code=per_code, polarity_confusion=t.confusion,
        subject_accuracy=round(_ratio(t.subject_ok, tp_all), 4),
        non_affirmed_as_affirmed_rate=round(t.leaked / t.non_aff, 4) if t.non_aff else 0.0,
        non_affirmed_total=t.non_aff,
        trap_false_alarm_rate=round(t.trap_alarms / t.trap_notes, 4) if t.trap_notes else 0.0,
        trap_notes=t.trap_notes,
        protected_recall=round(_ratio(t.prot_hit, t.prot_gold), 4),
        protected_precision=round(_ratio(t.prot_pred_ok, t.prot_pred), 4), protected_gold=t.prot_gold,
        protected_missed=t.missed_prot, notes_per_second=round(len(rows) / elapsed, 1) if elapsed else 0.0,
        signals_version=version,
    )


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
