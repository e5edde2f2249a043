"""Field extraction from credit documents: label -> value rules, data-driven.

Why rules and not a trained tagger: every field must come with the exact text it was read
from (offsets into the input) and a normalised value, and credit documents are
form-like: a value sits next to its label, in a table row or in a stock sentence of a
letter. Rules over a YAML file (models/nlp/fields.yml) are auditable, fast (no model in
the loop) and easy to extend per document layout.

Order of evidence for each field: labelled value (the label nearest the top wins),
then sentence patterns, then table rows, then the document header, then a whole-text
fallback; each step has a lower confidence than the one before.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from creditflow.nlp.contract import FieldValue
from creditflow.nlp.normalize import (
    DATE_PATTERNS, EMPLOYMENT_PATTERNS, FREQUENCY_PATTERNS, MONEY_RE, clean_name, monthly_from, parse_date, parse_employment_type, parse_frequency,
    parse_int, parse_money,
)

_OCR_CLASS = {"m": "(?:m|rn)", "o": "[o0]", "l": "[l1I|]", "i": "[i1l]", "s": "[s5]", "e": "[ec]", "b": "[b8]"}
_SEP = re.compile(r"[ \t]*(?:\([^)\n\d]{0,24}\))?[ \t]*[:#.\-=_)]*[ \t.]*")
_LABEL_BEFORE = re.compile(r"(?:^|\n|[ \t]{2,}|\t|\(|,[ \t]|[^\x00-\x7f][ \t]?)[ \t]*$")
_LABEL_AFTER = re.compile(r"[ \t]*(?:\([^)\n\d]{0,24}\))?[ \t]*[:#]")
_CHUNK_END = re.compile(r"\s{2,}|\t| \| |\n|$")
_ORG_SUFFIX = re.compile(
    r"\b(?:Inc|LLC|Corp|Corporation|Co|Company|Ltd|Limited|Group|Holdings|Bank|Union|Authority|Cooperative|"
    r"Energy|Utilities|Center|Centre|Partners|Trust|Services|Systems|Power|Light|Gas|Water)\b\.?", re.I)
_LINE_NO = re.compile(r"\d{1,2}[a-z]?\s{2,}")
_ID_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-]{3,24}")
_USCC_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")


@dataclass(frozen=True)
class FieldRule:
    """One field's rule set as loaded from fields.yml."""

    name: str
    type: str
    labels: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    index: int = 0
    index_by_label: dict[str, int] = field(default_factory=dict)
    header: bool = False
    row_of: tuple[str, ...] = ()
    row_index: int = 1
    fallback: bool = False
    anywhere: tuple[str, ...] = ()
    count_lines: re.Pattern[str] | None = None


@dataclass(frozen=True)
class _Label:
    field: str
    label: str
    start: int
    end: int


def label_regex(label: str) -> str:
    """A case-insensitive regex for a label tolerant to the usual OCR confusions."""
    out = []
    for ch in label.lower():
        if ch == " ":
            out.append(r"[ \t]+")
        elif ch in _OCR_CLASS:
            out.append(_OCR_CLASS[ch])
        else:
            out.append(re.escape(ch))
    body = "".join(out)
    lead = r"(?<![A-Za-z0-9])" if label[:1].isalnum() else ""
    tail = r"(?![A-Za-z])" if label[-1:].isalnum() else ""
    return lead + body + tail


# Every OCR class of `_OCR_CLASS` except "m" (an alternation of two lengths) folded onto one character; classes
# that share a member ("[l1I|]" and "[i1l]") share the character. Applied to lower-cased text and labels alike.
_OCR_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "c": "e", "8": "b"})


def ocr_fold(text: str) -> str | None:
    """Lower-cased ASCII text with each OCR class folded to one character (see `label_keys`); None if not ASCII."""
    return text.lower().translate(_OCR_FOLD) if text.isascii() else None


def label_keys(label: str) -> tuple[str, ...]:
    """Pieces of `label` that are in `ocr_fold(text)` wherever `label_regex(label)` matches in an ASCII text.

    Why: `piece in folded` costs a fraction of a regex search and most labels are absent from any one text.
    A literal piece that stopped at every OCR class would be one or two letters ("n" of "nsf"), present in
    nearly every text; folding the classes (each character a class admits maps to the class's one character,
    so a match's characters fold to the label's) keeps whole words: "nsf", "ployed", "sales". Non-ASCII text
    always takes the regex, because Unicode case folding maps a few non-ASCII letters onto ASCII ones.
    The label splits at gaps (`[ \t]+`), at "m" ("m" or "rn") and at a non-ASCII letter that folds onto an
    ASCII one; pieces shorter than two characters are left out (they prove nothing); longest first. Empty
    when none is left: then the regex always runs.
    """
    folded = "".join(" " if ch == "m" or _folds_to_ascii(ch) else ch for ch in label.lower().translate(_OCR_FOLD))
    return tuple(sorted({p for p in folded.split() if len(p) >= 2}, key=lambda p: (-len(p), p)))


def _folds_to_ascii(ch: str) -> bool:
    """A non-ASCII character that matches an ASCII letter under re.IGNORECASE (the Kelvin sign, a long s)."""
    return not ch.isascii() and any(re.fullmatch(re.escape(ch), a, re.I) for a in string.ascii_letters)


class FieldExtractor:
    """Reads fields.yml once; `extract(text, doc_type)` returns contract FieldValues."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.version = str(spec.get("version", "0"))
        macros: dict[str, str] = spec.get("macros", {})
        self.rules: dict[str, list[FieldRule]] = {}
        self._label_res: dict[str, re.Pattern[str]] = {}
        self._label_keys: dict[str, tuple[str, ...]] = {}
        for doc_type, fields in spec["doc_types"].items():
            rules = []
            for name, f in fields.items():
                pats = []
                for p in f.get("patterns", []):
                    for k, v in macros.items():
                        p = p.replace("{" + k + "}", f"(?:{v})")
                    pats.append(re.compile(p))
                rule = FieldRule(
                    name=name, type=f["type"], labels=tuple(f.get("labels", [])), patterns=tuple(pats),
                    index=int(f.get("index", 0)), index_by_label=dict(f.get("index_by_label", {})),
                    header=bool(f.get("header", False)), row_of=tuple(f.get("row_of", [])), row_index=int(f.get("row_index", 1)),
                    fallback=bool(f.get("fallback", False)), anywhere=tuple(f.get("anywhere", [])),
                    count_lines=re.compile(f["count_lines"], re.M) if f.get("count_lines") else None,
                )
                for lab in rule.labels + rule.row_of:
                    if lab not in self._label_res:
                        self._label_res[lab] = re.compile(label_regex(lab), re.I)
                        self._label_keys[lab] = label_keys(lab)
                rules.append(rule)
            self.rules[doc_type] = rules

    @classmethod
    def from_path(cls, path: Path) -> "FieldExtractor":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ labels
    def _labels(self, text: str, rules: list[FieldRule]) -> list[_Label]:
        """All label occurrences; a label inside a longer label's span is dropped ("Gross Pay" in "YTD Gross Pay")."""
        found: list[_Label] = []
        folded = ocr_fold(text)
        label_keys_of = self._label_keys
        for rule in rules:
            for lab in rule.labels:
                keys = label_keys_of[lab]
                # cannot match without every key (label_keys); most labels already lack the first, longest one
                if folded is not None and keys and (keys[0] not in folded
                                                    or not all(k in folded for k in keys[1:])):
                    continue
                for m in self._label_res[lab].finditer(text):
                    if lab in rule.anywhere or _LABEL_BEFORE.search(text, max(0, m.start() - 3), m.start()) or \
                            _LABEL_AFTER.match(text, m.end()):
                        found.append(_Label(rule.name, lab, m.start(), m.end()))
        spans = sorted({(x.start, x.end) for x in found}, key=lambda s: s[0] - s[1])
        kept: list[tuple[int, int]] = []
        for s in spans:
            if not any(k[0] <= s[0] and s[1] <= k[1] and k != s for k in kept):
                kept.append(s)
        ok = set(kept)
        return sorted((x for x in found if (x.start, x.end) in ok), key=lambda x: x.start)

    # ------------------------------------------------------------------ value readers
    @staticmethod
    def _line_end(text: str, pos: int) -> int:
        nl = text.find("\n", pos)
        return len(text) if nl < 0 else nl

    def _value_start(self, text: str, pos: int) -> int:
        """Skip separators after a label; if the line ends there, continue on the next non-empty line."""
        m = _SEP.match(text, pos)
        p = m.end() if m else pos
        if p >= len(text) or text[p] == "\n":
            q = p
            while q < len(text) and text[q] in "\n \t":
                q += 1
            # only one line down
            if text.count("\n", p, q) <= 2:
                return q
        return p

    def _read(self, rule: FieldRule, text: str, pos: int, index: int, doc_currency: str | None,
              anchored: bool = True) -> tuple[Any, int, int, str | None] | None:
        """Read a value of the rule's type at `pos` -> (value, start, end, currency)."""
        end_line = self._line_end(text, pos)
        t = rule.type
        if t == "money":
            amounts = []
            for m in MONEY_RE.finditer(text, pos, end_line):
                s = m.group(0)
                if not any(c.isdigit() for c in m.group("num")):
                    continue
                parsed = parse_money(s, doc_currency)
                if parsed is None:
                    continue
                a, b = m.start(), m.end()
                while b > a and text[b - 1] in " \t":
                    b -= 1
                while a < b and text[a] in " \t":
                    a += 1
                amounts.append((parsed, a, b))
            if not amounts:
                return None
            if anchored and amounts[0][1] - pos > 3:
                return None
            if len(amounts) > 1 and _LINE_NO.match(text, amounts[0][1]) and abs(amounts[0][0][0]) < 100 \
                    and "." not in text[amounts[0][1]:amounts[0][2]]:
                amounts = amounts[1:]
            if index >= len(amounts):
                return None
            (value, cur), a, b = amounts[index]
            return value, a, b, cur or doc_currency
        if t == "date":
            found = []
            for pat in DATE_PATTERNS:
                for m in pat.finditer(text, pos, end_line):
                    iso = parse_date(m.group(0))
                    if iso:
                        found.append((m.start(), m.end(), iso))
            found.sort()
            dedup: list[tuple[int, int, str]] = []
            for f in found:
                if not dedup or f[0] >= dedup[-1][1]:
                    dedup.append(f)
            if not dedup or (anchored and dedup[0][0] - pos > 3) or index >= len(dedup):
                return None
            a, b, iso = dedup[index]
            return iso, a, b, None
        if t == "uscc":
            m = _USCC_TOKEN.search(text, pos, end_line)
            if not m or m.start() - pos > 12:
                return None
            return m.group(0).upper(), m.start(), m.end(), None
        if t == "year":
            m = _YEAR.search(text, pos, end_line)
            if not m or (anchored and m.start() - pos > 3):
                return None
            return int(m.group(1)), m.start(1), m.end(1), None
        if t == "int":
            m = re.compile(r"[0-9Ool]{1,4}\b|none|zero").match(text, pos)
            if not m:
                return None
            v = parse_int(m.group(0))
            return (v, m.start(), m.end(), None) if v is not None else None
        # text-like values: the chunk up to a column gap or the end of the line
        ce = _CHUNK_END.search(text, pos)
        cend = ce.start() if ce else end_line
        chunk = text[pos:cend]
        if t == "frequency":
            v = parse_frequency(chunk)
            return (v, pos, cend, None) if v else None
        if t == "employment_type":
            v = parse_employment_type(chunk)
            return (v, pos, cend, None) if v else None
        if t == "id":
            m = _ID_TOKEN.match(text, pos)
            if not m or not any(c.isdigit() for c in m.group(0)):
                return None
            return m.group(0), m.start(), m.end(), None
        if t == "person":
            m = re.match(r"[A-Z][A-Za-z'\-]*\.?(?:[ \t]+[A-Z][A-Za-z'\-]*\.?){1,3}", chunk)
            if not m:
                return None
            val = m.group(0).rstrip(" ,")
            return clean_name(val).rstrip("."), pos, pos + len(val), None
        if t in ("org", "title", "text"):
            chunk = re.split(r" - |;", chunk)[0]
            chunk = chunk.rstrip(" ,:;")
            if t == "org":
                chunk = re.split(r",\s+(?!Ltd|Inc|LLC)|\s+\((?!副本)", chunk)[0]
            if not chunk or not chunk[0].isalnum():
                return None
            if t == "title" and len(chunk.split()) > 6:
                return None
            return clean_name(chunk), pos, pos + len(chunk), None
        return None

    # ------------------------------------------------------------------ main entry
    def extract(self, text: str, doc_type: str) -> dict[str, FieldValue]:
        """All fields of `doc_type` found in `text`; missing fields are simply absent."""
        rules = self.rules.get(doc_type, [])
        if not rules or not text:
            return {}
        doc_currency = document_currency(text)
        labels = self._labels(text, rules)
        out: dict[str, FieldValue] = {}
        for rule in rules:
            got = self._extract_one(rule, text, labels, doc_currency)
            if got:
                out[rule.name] = got
        if doc_type == "pay_stub" and "gross_pay" in out and "pay_frequency" in out:
            g, f = out["gross_pay"], out["pay_frequency"]
            out["monthly_gross_income"] = FieldValue(
                value=monthly_from(float(g.value), str(f.value)), start=g.start, end=g.end,
                confidence=round(min(g.confidence, f.confidence) * 0.95, 3), currency=g.currency)
        return out

    def _extract_one(self, rule: FieldRule, text: str, labels: list[_Label], cur: str | None) -> FieldValue | None:
        def fv(res: tuple[Any, int, int, str | None], conf: float) -> FieldValue:
            value, a, b, c = res
            if rule.type in ("money", "date") and re.search(r"[Ool|]", text[a:b].replace("USD", "").replace("CNY", "")):
                conf -= 0.1  # read through OCR repairs
            return FieldValue(value=value, start=a, end=b, confidence=round(conf, 3),
                              currency=c if rule.type == "money" else None)

        label_starts = {x.start for x in labels}
        for lab in labels:
            if lab.field != rule.name:
                continue
            idx = rule.index_by_label.get(lab.label, rule.index)
            vs = self._value_start(text, lab.end)
            if vs in label_starts:
                continue  # "法定代表人 Legal Representative: X": the value follows the next label
            res = self._read(rule, text, vs, idx, cur)
            if res:
                return fv(res, 0.95)
        for pat in rule.patterns:
            for m in pat.finditer(text):
                if rule.type in ("org", "title", "text", "person"):
                    a, b = m.span("v")
                    while b > a and text[b - 1] in " ,;:":
                        b -= 1
                    value = clean_name(text[a:b])
                    if rule.type == "person":
                        value = value.rstrip(".")
                    if value:
                        return FieldValue(value=value, start=a, end=b, confidence=0.85)
                    continue
                if rule.type in ("frequency", "employment_type"):
                    reader = parse_frequency if rule.type == "frequency" else parse_employment_type
                    v = reader(m.group("v"))
                    if v:
                        return FieldValue(value=v, start=m.start("v"), end=m.end("v"), confidence=0.85)
                    continue
                res = self._read(rule, text, m.start("v"), 0, cur, anchored=True)
                if res:
                    return fv(res, 0.85)
        if rule.row_of:
            for lab in rule.row_of:
                for m in self._label_res[lab].finditer(text):
                    res = self._read(rule, text, self._value_start(text, m.end()), rule.row_index, cur)
                    if res:
                        return fv(res, 0.85)
        if rule.header:
            res = self._header(rule, text)
            if res:
                return fv(res, 0.75)
        if rule.count_lines is not None:
            n = len(rule.count_lines.findall(text))
            m = rule.count_lines.search(text)
            if m:
                return FieldValue(value=n, start=m.start(), end=m.end(), confidence=0.6)
        if rule.fallback:
            pats = FREQUENCY_PATTERNS if rule.type == "frequency" else EMPLOYMENT_PATTERNS
            hits = sorted((m.start(), i, m.end(), name) for i, (name, p) in enumerate(pats) for m in [p.search(text)] if m)
            if hits:
                a, _, b, name = hits[0]
                return FieldValue(value=name, start=a, end=b, confidence=0.6)
        return None

    def _header(self, rule: FieldRule, text: str) -> tuple[Any, int, int, None] | None:
        """The organisation named on the first lines (letterheads, statement headers)."""
        pos = 0
        for _ in range(3):
            while pos < len(text) and text[pos] in " \t\n":
                pos += 1
            if pos >= len(text):
                return None
            end = self._line_end(text, pos)
            ce = _CHUNK_END.search(text, pos)
            cend = min(ce.start() if ce else end, end)
            chunk = re.split(r" - |;|:", text[pos:cend])[0].rstrip(" ,")
            if chunk and _ORG_SUFFIX.search(chunk) and len(chunk) < 80:
                return clean_name(chunk), pos, pos + len(chunk), None
            pos = end + 1
        return None


def document_currency(text: str) -> str | None:
    """The document's currency when it says so (a CNY licence prints no $)."""
    m = re.search(r"\(?\s*currency\s*[:=]?\s*([A-Z]{3})", text, re.I)
    if m:
        return m.group(1).upper()
    if re.search(r"RMB|CNY|yuan|¥|人民币", text):
        return "CNY"
    if "€" in text or re.search(r"\bEUR\b", text):
        return "EUR"
    if "$" in text or re.search(r"\bUSD\b", text):
        return "USD"
    return None


@lru_cache(maxsize=4)
def load_extractor(path: str) -> FieldExtractor:
    return FieldExtractor.from_path(Path(path))
