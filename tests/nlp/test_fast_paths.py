"""Each speed-up of the English pipeline must return exactly what the plain way returns.

The fast paths (ruler.py, segment.py, label_keys, with_start_guard, the keyword index of
rule_scores) only skip work whose result is known in advance. Each test here runs the fast
path and the plain one on the evaluation texts plus generated texts aimed at the edges
(digits next to window ends, OCR look-alikes, Unicode case folding, non-ASCII digits and
spaces) and asserts equal results: any divergence fails, whatever the cause.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from spacy.pipeline.entityruler import EntityRuler

from creditflow.nlp import components as C
from creditflow.nlp.classify import DocTypeClassifier, load_spec
from creditflow.nlp.fields import FieldExtractor, label_keys, label_regex, ocr_fold
from creditflow.nlp.resources import nlp_dir
from creditflow.nlp.ruler import digit_window
from creditflow.nlp.signals import segment as S
from creditflow.nlp.signals.firstchars import with_start_guard

EVAL = Path(__file__).resolve().parents[2] / "models" / "nlp" / "eval"


def _eval_texts(step: int = 1) -> list[str]:
    texts = []
    for f in sorted(EVAL.glob("*.jsonl")):
        texts += [json.loads(x)["text"] for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return texts[::step]


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    from creditflow.nlp import get_pipeline

    return get_pipeline().nlp


# ----------------------------------------------------------------------------- entity ruler windows
_RULER_WORDS = ["$", "US$", "¥", "€", "USD", "usd", "EUR", "rmb", "1,234.56", "12", "2026", "1999", "03", "15",
                "15th", "-", "/", "March", "mar", "Sept", ".", ",", "million", "dollars", "yuan", "XXX", "XX", "123",
                "45", "6789", "****1234", "xxxx9876", "2026-03-15", "03/15/2026", "91350211MA2YXXXX5X", "a",
                "the", "\n", "  ", "٣٤", "１２"]


# one instance of each shipped pattern, at its longest where it has optional tokens (a digit as far as
# possible from the match's other end is what a too-short window would cut off)
_RULER_SHAPES = ["$ 1,234.56", "USD 1234.56", "1,234.56 USD", "USD $ 2.5 million dollars", "03/15/2026",
                 "2026 - 03 - 15", "2026-03-15", "March 15, 2026", "Mar. 15th 2026", "15 March 2026",
                 "15th Sept., 2026", "91350211MA2YXXXX5X", "XXX - XX - 6789", "123 - 45 - 6789", "****1234"]


def _ruler_texts() -> list[str]:
    rnd = random.Random(7)
    made = [" ".join(rnd.choice(_RULER_WORDS) for _ in range(rnd.randint(0, 30))) for _ in range(1500)]
    for _ in range(1500):
        parts = [rnd.choice(_RULER_SHAPES if rnd.random() < 0.4 else _RULER_WORDS) for _ in range(rnd.randint(1, 12))]
        made.append(rnd.choice([" ", "\n", ", ", "  "]).join(parts))
    return _eval_texts(step=2) + made


def test_ruler_matches_only_near_digits_yet_finds_every_match(nlp) -> None:  # type: ignore[no-untyped-def]
    ruler = nlp.get_pipe("entity_ruler")
    assert ruler.window() == 5  # the shipped patterns: every one needs a digit, none is longer than 5 tokens
    with_matches = 0
    for text in _ruler_texts():
        clean = text.replace("\x00", " ")
        doc = nlp.make_doc(clean)
        doc.user_data[C.TEXT_KEY] = clean
        fast, plain = ruler.match(doc), EntityRuler.match(ruler, doc)
        assert fast == plain, text
        with_matches += bool(plain)
    assert with_matches > 1000  # the comparison is not vacuous


def test_digit_window_turns_the_shortcut_off_when_it_would_be_unsafe() -> None:
    num = {"TEXT": {"REGEX": r"^\d+$"}}
    assert digit_window([[{"LOWER": "usd"}, num]]) == 2
    assert digit_window([[{"LOWER": "usd"}, num], [{"LOWER": "total"}]]) is None  # a pattern without a digit
    assert digit_window([[{"LOWER": "usd", "OP": "+"}, num]]) is None  # unbounded length
    assert digit_window([[{**num, "OP": "?"}, {"LOWER": "x"}]]) is None  # the digit token is optional
    assert digit_window([[{"TEXT": {"REGEX": r"^\d*$"}}]]) is None  # the regex matches without a digit


def test_ruler_falls_back_to_the_whole_doc_for_patterns_without_digits(nlp) -> None:  # type: ignore[no-untyped-def]
    from creditflow.nlp.ruler import DigitAnchoredRuler

    ruler = DigitAnchoredRuler(nlp, "probe")
    ruler.add_patterns([{"label": "ORG", "pattern": [{"LOWER": "acme"}]}])
    assert ruler.window() == 0
    doc = nlp.make_doc("Acme pays 12 USD")
    assert ruler.match(doc) == EntityRuler.match(ruler, doc) != []
    ruler.clear()
    ruler.add_patterns([{"label": "MONEY", "pattern": [{"TEXT": {"REGEX": r"^\d+$"}}, {"LOWER": "usd"}]}])
    assert ruler.window() == 2  # recomputed when the patterns change


def test_ruler_round_trips_through_bytes(nlp) -> None:  # type: ignore[no-untyped-def]
    from creditflow.nlp.ruler import DigitAnchoredRuler

    ruler = nlp.get_pipe("entity_ruler")
    copy = DigitAnchoredRuler(nlp, "copy").from_bytes(ruler.to_bytes())
    assert copy.patterns == ruler.patterns and copy.window() == 5
    doc = nlp.make_doc("Paid $ 1,200.00 on March 3, 2026; SSN XXX - XX - 6789.")
    assert copy.match(doc) == ruler.match(doc) == EntityRuler.match(ruler, doc) != []


# ----------------------------------------------------------------------------- sentences and shared tokens
def _segment_texts() -> list[str]:
    rnd = random.Random(3)
    alphabet = list("ab .!?…。\n\n\t  \"')(-:;,Xy1") + ["Mr.", "U.S.", "e.g.", "...", "?!", "  ", "\u00a0"]
    made = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) for _ in range(1500)]
    return _eval_texts(step=3) + made


def test_sentence_starts_follow_spacys_sentencizer() -> None:
    nlp = S.blank_pipeline()
    sentencizer = nlp.get_pipe("sentencizer")
    from spacy.attrs import IS_PUNCT, ORTH

    for text in _segment_texts():
        doc = nlp.make_doc(text)
        rows = doc.to_array([IS_PUNCT, ORTH]).tolist() if len(doc) else []
        assert S.sentence_starts(rows) == list(sentencizer.predict([doc])[0]), text


def test_segment_on_the_pipelines_doc_equals_segment_on_the_text(nlp) -> None:  # type: ignore[no-untyped-def]
    assert S.same_tokenizer(nlp)
    for text in _segment_texts():
        for kind in ("note", "document"):
            assert S.segment(text, kind, nlp.make_doc(text)) == S.segment(text, kind)


def test_pipeline_shares_its_doc_with_the_risk_scopes() -> None:
    from creditflow.nlp import get_pipeline

    pipeline = get_pipeline()
    assert pipeline.share_tokens
    texts = _eval_texts(step=9) + ["her husband was laid off in March.\x07 No late payments."]  # \x07: not shared
    shared = pipeline.analyze_many(texts)
    try:
        pipeline.share_tokens = False
        alone = pipeline.analyze_many(texts)
    finally:
        pipeline.share_tokens = True
    assert shared == alone
    assert sum(len(a.risk_signals) for a in shared) > 50


# ----------------------------------------------------------------------------- label keys and keyword index
def _labels() -> list[str]:
    spec = load_spec(nlp_dir() / "doc_types.yml")
    fields = FieldExtractor.from_path(nlp_dir() / "fields.yml")
    return sorted({k for kws in spec["types"].values() for k in kws} | set(fields._label_res))


_OCR_SWAPS = {"o": "0O", "l": "1I|L", "i": "1lI", "s": "5S", "e": "cE", "c": "eC", "b": "8B", "m": ["rn", "M"]}


def _ocr_noise(text: str, rnd: random.Random) -> str:
    return "".join(rnd.choice(list(_OCR_SWAPS[ch])) if ch in _OCR_SWAPS and rnd.random() < 0.3 else ch for ch in text)


def test_label_keys_are_found_wherever_the_label_matches() -> None:
    rnd = random.Random(11)
    for label in _labels():
        rx = re.compile(label_regex(label), re.I)
        keys = label_keys(label)
        for _ in range(30):
            text = f"x {_ocr_noise(label.upper() if rnd.random() < 0.3 else label, rnd)}: 12"
            if rx.search(text) and text.isascii():
                folded = ocr_fold(text)
                assert folded is not None and all(k in folded for k in keys), (label, text, keys)


def test_label_keys_split_where_a_match_may_differ() -> None:
    assert label_keys("nsf") == ("nsf",)
    assert label_keys("has been employed") == ("ployed", "been", "has")  # "m" may be read as "rn"
    assert label_keys("营业执照") == ("营业执照",)
    assert label_keys("\u212a x") == ()  # the Kelvin sign folds onto an ASCII "k": no key from it


def test_rule_scores_equal_the_sum_over_every_keyword_regex() -> None:
    rules = DocTypeClassifier(load_spec(nlp_dir() / "doc_types.yml"), None, None, False)
    rnd = random.Random(5)
    texts = _eval_texts(step=2)
    texts += [_ocr_noise(t, rnd) for t in texts[:200]]
    for text in texts:
        head = text[:6000]
        plain = {t: sum(w for p, w, _ in kws if p.search(head)) for t, kws in rules.keywords.items()}
        got = rules.rule_scores(text)
        assert got == plain and [type(v) for v in got.values()] == [type(v) for v in plain.values()], text[:80]


# ----------------------------------------------------------------------------- first-character guards
_GUARD_EXTRA = ["ſpoke with Jane Doe", "SPOKE WITH JANE DOE", "ssn: AB12345", "\u212aelly called", "١٢٣-٤٥-٦٧٨٩",
                "Tel\u00a0: 415 555 0132", "applicant\u2003Jane Roe", "DOB 1980-02-03", "passport no. X1234567"]


def _unguarded(rx: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern inside a `with_start_guard` wrapper "(?=(?i:[...]))(?:PATTERN)"."""
    if not rx.pattern.startswith("(?=(?i:["):
        return rx
    return re.compile(rx.pattern[rx.pattern.index("]))(?:") + len("]))(?:"):-1], rx.flags)


def test_start_guard_keeps_every_match() -> None:
    from creditflow.nlp.signals.data import cached_data

    plain = [re.compile(p.re, re.I if p.ignore_case else 0) for ps in cached_data().pii.patterns.values() for p in ps]
    plain += [_unguarded(C._DOC_WORDS), _unguarded(C._NOTE_WORDS)]
    assert [p.pattern for p in plain[-2:]] != [C._DOC_WORDS.pattern, C._NOTE_WORDS.pattern]  # both are guarded
    texts = _eval_texts(step=2) + _GUARD_EXTRA
    guarded = 0
    for rx in plain:
        fast = with_start_guard(rx, max_chars=30)
        guarded += fast is not rx
        for text in texts:
            assert [m.span() for m in fast.finditer(text)] == [m.span() for m in rx.finditer(text)], (rx.pattern, text)
    assert guarded >= 10


def test_start_guard_widens_to_unicode_digits_and_case_folds() -> None:
    rx = re.compile(r"(?<!\w)\d{3}-\d{2}")
    fast = with_start_guard(rx)
    assert fast is not rx and [m.span() for m in fast.finditer("id ١٢٣-٤٥")] == [(3, 9)]
    rx = re.compile(r"(?<!\w)(?i:spoke with)\s+[A-Z]")
    assert with_start_guard(rx).search("ſpoke with Jane")  # "ſ" folds onto "s" inside (?i:...)
    assert with_start_guard(re.compile("abc")).pattern == "abc"  # opens with a literal: left alone


# ----------------------------------------------------------------------------- prose view
def _prose_view_plain(text: str, max_digit_ratio: float = 0.35) -> list[str]:
    """The line filter of `prose_view` written out character by character (notes: no label/covered rules)."""
    out = []
    for line in text.split("\n"):
        chars = [c for c in line if not c.isspace()]
        if chars and any(c.isalpha() for c in chars) and C.has_name_candidate(line):
            if sum(c.isdigit() or c in ",.$%" for c in chars) / len(chars) <= max_digit_ratio:
                out.append(line)
    return out


def test_prose_view_counts_characters_as_before() -> None:
    texts = _eval_texts(step=3) + ["Paid Jane Doe\u00a0\u00a0$1,200.00\u2003on 03/02", "Met\u3000John Smith today",
                                   "12 34 56 Bob Lee", " \t "]
    for text in texts:
        view, _ = C.prose_view(text)
        assert [x for x in view.split("\n") if x] == [x for x in _prose_view_plain(text) if x], text[:80]


def test_field_extraction_equals_running_every_label_regex() -> None:
    fast = FieldExtractor.from_path(nlp_dir() / "fields.yml")
    plain = FieldExtractor.from_path(nlp_dir() / "fields.yml")
    plain._label_keys = {lab: () for lab in plain._label_keys}  # no keys: every label regex runs
    rnd = random.Random(13)
    docs = [json.loads(x) for f in sorted(EVAL.glob("documents_*.jsonl")) + [EVAL / "core_documents.jsonl"]
            for x in f.read_text(encoding="utf-8").splitlines() if x.strip()][::2]
    found = 0
    for d in docs:
        for text in (d["text"], _ocr_noise(d["text"], rnd)):
            got = fast.extract(text, d["doc_type"])
            assert got == plain.extract(text, d["doc_type"]), text[:80]
            found += len(got)
    assert found > 500
