"""Evaluate document classification and field extraction on the held-out TEST slice.

    python -m creditflow.nlp.evaluate_documents [--split test] [--no-card]

Prints doc-type accuracy and per-field accuracy and writes them into
models/nlp/MODEL_CARD.md between the `documents-eval` markers. The test slice is read
only here: rules and the encoder head are tuned on train/dev.
A field counts as correct when the gold value is present and the extracted value equals
it (numbers to the cent, strings case- and dot-insensitively); a field the document
does not contain counts as correct only if nothing was extracted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

from creditflow.nlp.contract import FIELDS_BY_DOC_TYPE, Analysis, FieldValue
from creditflow.nlp.resources import nlp_dir

START, END = "<!-- documents-eval:start -->", "<!-- documents-eval:end -->"


def load_split(split: str) -> list[dict[str, Any]]:
    path = nlp_dir() / "eval" / f"documents_{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def same(a: Any, b: Any) -> bool:
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return abs(float(a) - float(b)) < 0.006
        except (TypeError, ValueError):
            return False
    norm = lambda s: " ".join(str(s).lower().replace(".", "").replace(",", "").split())  # noqa: E731
    return norm(a) == norm(b)


class DocumentScores(TypedDict):
    """What `score_documents` measures; the evaluators add their split and their own checks around it."""

    documents: int
    doc_type_accuracy: float
    field_accuracy: float
    fields_evaluated: int
    spurious_fields: int
    offsets_valid: bool
    per_field: dict[str, float]
    confusions: dict[str, int]
    errors: list[str]


def field_slots(doc: dict[str, Any], analysis: Analysis) -> Iterator[tuple[str, FieldValue | None]]:
    """(field, extracted value or None) for every field the gold doc type defines; none for `other`.

    The slots every field metric is counted over, so that a language's extra field check
    walks exactly the same ones.
    """
    if doc["doc_type"] == "other":
        return
    for f in FIELDS_BY_DOC_TYPE[doc["doc_type"]]:
        yield f, analysis.fields.get(f)


def score_documents(docs: list[dict[str, Any]], results: list[Analysis]) -> DocumentScores:
    """Doc-type and field accuracy of `results` against gold `docs` (rows with id, text, doc_type, fields)."""
    type_ok = 0
    confusion: Counter[tuple[str, str]] = Counter()
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    spurious = 0
    offsets_ok = True
    errors: list[str] = []
    for d, a in zip(docs, results, strict=True):
        if a.doc_type == d["doc_type"]:
            type_ok += 1
        else:
            confusion[(d["doc_type"], str(a.doc_type))] += 1
        for f, got in field_slots(d, a):
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
    n_fields = sum(t for _, t in per_field.values())
    return {
        "documents": len(docs),
        "doc_type_accuracy": round(type_ok / len(docs), 4),
        "field_accuracy": round(sum(c for c, _ in per_field.values()) / max(n_fields, 1), 4),
        "fields_evaluated": n_fields, "spurious_fields": spurious, "offsets_valid": offsets_ok,
        "per_field": {k: round(c / t, 4) for k, (c, t) in sorted(per_field.items())},
        "confusions": {f"{g}->{p}": n for (g, p), n in confusion.most_common()},
        "errors": errors,
    }


def evaluate(split: str = "test") -> dict[str, Any]:
    """Score the English pipeline on documents_{split}.jsonl, plus which classifier decided each doc type."""
    from creditflow.nlp import analyze_many

    docs = load_split(split)
    results = analyze_many([d["text"] for d in docs], kind="document")
    decided_by = Counter(a.classifier or "none" for a in results)
    return {"split": split, **score_documents(docs, results), "decided_by": dict(decided_by)}


def render(r: dict[str, Any]) -> str:
    from creditflow.nlp.resources import model_version

    lines = [START, "", f"Evaluated on the **{r['split']}** slice ({r['documents']} documents, "
             f"{r['fields_evaluated']} field slots) with `python -m creditflow.nlp.evaluate_documents`; "
             f"model `{model_version()}`.", "",
             f"- document-type accuracy: **{r['doc_type_accuracy']:.3f}** (target >= 0.97); decided by "
             + ", ".join(f"{k}: {v}" for k, v in sorted(r["decided_by"].items())),
             f"- field accuracy: **{r['field_accuracy']:.3f}** (target >= 0.95); spurious fields: {r['spurious_fields']}",
             f"- confusions: {r['confusions'] or 'none'}", "", "| field | accuracy |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in r["per_field"].items()]
    lines += ["", END]
    return "\n".join(lines)


def write_card(section: str, card: Path | None = None) -> None:
    card = card or nlp_dir() / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.exists() else f"# creditflow NLP model card\n\n{START}\n{END}\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    card.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test", choices=["train", "dev", "test"])
    ap.add_argument("--no-card", action="store_true", help="do not update MODEL_CARD.md")
    ap.add_argument("--errors", action="store_true", help="list every wrong field")
    args = ap.parse_args(argv)
    r = evaluate(args.split)
    print(f"split={r['split']} documents={r['documents']}")
    print(f"doc_type_accuracy={r['doc_type_accuracy']:.4f}  decided_by={r['decided_by']}")
    print(f"field_accuracy={r['field_accuracy']:.4f}  spurious={r['spurious_fields']}  offsets_valid={r['offsets_valid']}")
    for k, v in r["per_field"].items():
        print(f"  {k:40s} {v:.3f}")
    if r["confusions"]:
        print("confusions:", r["confusions"])
    if args.errors:
        print("\n".join(r["errors"]))
    if not args.no_card and args.split == "test":
        write_card(render(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
