"""Chinese document type and field extraction: keyword scores + "标签：值" layouts + prose patterns.

Why rules and not a model: Chinese credit documents are forms with fixed labels (营业执照 has
名称 / 统一社会信用代码 / 法定代表人 ...; 工资条 has 应发工资 / 实发工资 ...). Label rules give exact
offsets for every value, which the officer console highlights, and they need no training data.
All labels and weights are data in models/nlp/zh/.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from creditflow.nlp.contract import FieldValue
from creditflow.nlp.uscc import is_valid_uscc
from creditflow.nlp.zh.data import FieldSpec, ZhData, cached_data
from creditflow.nlp.zh.numbers import DATE_RE, _FULLWIDTH, cn_int, currency_of, find_money, parse_amount, parse_date

_SEP = r"[ \t]*[:：][ \t]*|[ \t]+"
_VALUE_STOP = re.compile(r"[ \t]{2,}|\t|[；;|｜]|\n")
_CN_NAME = re.compile(r"[\u4e00-\u9fa5]{1,2}[\u4e00-\u9fa5·]{1,4}|[A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+){0,3}")
_ORG_IN_LINE = re.compile(r"[\u4e00-\u9fa5（）()A-Za-z]{2,30}?(?:股份有限公司|有限责任公司|有限公司|集团|商行|经营部|合作社|厂|店)")
_BANK_IN_LINE = re.compile(r"[\u4e00-\u9fa5]{2,14}?银行(?:股份有限公司)?(?:[\u4e00-\u9fa5]{2,10}?(?:分行|支行))?")
_NUMBER = re.compile(r"-?\d[\d,，]*(?:\.\d+)?")
_FREQ = (("双周", "biweekly"), ("每两周", "biweekly"), ("两周", "biweekly"), ("半月", "semimonthly"),
         ("每半月", "semimonthly"), ("周", "weekly"), ("月", "monthly"))
_FREQ_PER_MONTH = {"weekly": 52 / 12, "biweekly": 26 / 12, "semimonthly": 2.0, "monthly": 1.0}
_EMPLOYMENT = (("兼职", "part_time"), ("非全日制", "part_time"), ("劳务派遣", "contract"), ("临时", "contract"),
               ("外包", "contract"), ("合同工", "contract"), ("劳务", "contract"), ("全职", "full_time"),
               ("全日制", "full_time"), ("正式", "full_time"))


def classify(text: str, data: ZhData | None = None) -> tuple[str, float, int]:
    """(doc_type or "other", confidence, best score) from weighted keywords."""
    data = data or cached_data()
    scores = {dt: sum(w for kw, w in kws.items() if kw in text) for dt, kws in data.doc_types["types"].items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), (_, s2) = ranked[0], ranked[1]
    if s1 < int(data.doc_types.get("min_score", 3)):
        return "other", 0.5, s1
    conf = min(0.99, 0.5 + 0.5 * (s1 - s2) / s1)
    return best, round(conf, 3), s1


def label_lines(text: str) -> int:
    """Lines that start like a form row: any "标签：" or a known field label followed by a value."""
    return len(_label_line_rx().findall(text))


@lru_cache(maxsize=1)
def _label_line_rx() -> re.Pattern[str]:
    labels = {lab for specs in cached_data().fields.values() for s in specs.values() for lab in s.labels}
    alts = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^[ \t]*(?:[\u4e00-\u9fa5A-Za-z（）()]{{2,12}}[ \t]*[:：]|(?:{alts})[ \t]+\S)", re.M)


def looks_like_document(text: str, data: ZhData | None = None) -> bool:
    """kind="auto": a form (several "标签：值" lines) or a titled multi-line text is a document."""
    data = data or cached_data()
    cfg = data.doc_types
    n = label_lines(text)
    if n >= int(cfg.get("document_min_label_lines", 3)):
        return True
    title_w = int(cfg.get("document_title_weight", 5))
    head = "\n".join(text.strip().splitlines()[:2])
    titled = any(kw in head for kws in cfg["types"].values() for kw, w in kws.items() if w >= title_w)
    return titled and text.count("\n") >= 2 and n >= 1


class _Labels:
    """All labels of one doc type, compiled; a value ends where the next label starts."""

    def __init__(self, specs: dict[str, FieldSpec], all_labels: list[str]) -> None:
        self.specs = specs
        by_label = {lab: name for name, s in specs.items() for lab in s.labels}
        self.by_label = by_label
        # form layouts pad short labels with spaces ("名    称"): allow blanks between characters
        alts = "|".join("[ \t\u3000]*".join(re.escape(c) for c in x) for x in sorted(by_label, key=len, reverse=True))
        self.rx = re.compile(rf"(?:(?<=^)|(?<=[\s|｜,，;；(（]))(?P<label>{alts})(?P<sep>{_SEP})", re.M)
        stop = "|".join(re.escape(x) for x in sorted(set(all_labels), key=len, reverse=True))
        self.next_label = re.compile(rf"[ \t]+(?:{stop})[ \t]*[:：]|(?<=[ \t])(?:{stop})[:：]")


@lru_cache(maxsize=1)
def _compiled() -> dict[str, _Labels]:
    data = cached_data()
    all_labels = [lab for specs in data.fields.values() for s in specs.values() for lab in s.labels]
    return {dt: _Labels(specs, all_labels) for dt, specs in data.fields.items()}


def _unit_scale(text: str) -> float:
    m = re.search(r"单位[:：]\s*(?:人民币)?\s*(万元|千元|元)", text)
    return {"万元": 10_000.0, "千元": 1_000.0}.get(m.group(1), 1.0) if m else 1.0


def _value_span(text: str, start: int) -> tuple[int, int]:
    """Raw value after a label: up to a stop (2 spaces, tab, ；, newline) or the next label."""
    m = _VALUE_STOP.search(text, start)
    end = m.start() if m else len(text)
    n = _compiled_stop_any().search(text, start, end)
    if n:
        end = n.start()
    while end > start and text[end - 1] in " \t，,。":
        end -= 1
    return start, end


@lru_cache(maxsize=1)
def _compiled_stop_any() -> re.Pattern[str]:
    return next(iter(_compiled().values())).next_label


def _convert(kind: str, text: str, s: int, e: int, scale: float) -> list[tuple[Any, int, int, str | None]]:
    """Normalise a raw value; returns [(value, start, end, currency)] (two items for a period)."""
    raw = text[s:e]
    if not raw.strip():
        return []
    if kind == "money":
        money = find_money(raw)
        if money:
            ms, me, v, cur = money[0]
            return [(v, s + ms, s + me, cur)]
        m = _NUMBER.search(raw.translate(_FULLWIDTH))
        if not m:
            return []
        v = parse_amount(m.group(0), scale)
        return [(v, s + m.start(), s + m.end(), currency_of(raw))] if v is not None else []
    if kind in ("date", "expiry", "period"):
        dates = [(m.start(), m.end(), parse_date(m.group(0))) for m in DATE_RE.finditer(raw.translate(_FULLWIDTH))]
        dates = [d for d in dates if d[2]]
        if not dates:
            return []
        if kind == "expiry":
            ds, de, iso = dates[-1]
            if len(dates) == 1 and re.search(r"[-至到~—]\s*长期", raw):
                return []
            return [(iso, s + ds, s + de, None)]
        if kind == "period":
            return [(iso, s + ds, s + de, None) for ds, de, iso in dates[:2]] if len(dates) >= 2 else []
        ds, de, iso = dates[0]
        return [(iso, s + ds, s + de, None)]
    if kind == "name":
        m = _CN_NAME.match(raw.strip())
        if not m:
            return []
        off = s + (len(raw) - len(raw.lstrip()))
        return [(m.group(0), off + m.start(), off + m.end(), None)]
    if kind == "uscc":
        m = re.search(r"[0-9A-Za-z]{18}", raw)
        return [(m.group(0).upper(), s + m.start(), s + m.end(), None)] if m else []
    if kind == "id":
        m = re.search(r"\d{17}[\dXx]", raw)
        return [(m.group(0).upper(), s + m.start(), s + m.end(), None)] if m else []
    if kind == "count":
        m = re.search(r"\d+|[零〇一二两三四五六七八九十]+", raw)
        if m:
            v = int(m.group(0)) if m.group(0).isdigit() else cn_int(m.group(0))
            return [(v, s + m.start(), s + m.end(), None)] if v is not None else []
        m = re.search(r"无|没有", raw)
        return [(0, s + m.start(), s + m.end(), None)] if m else []
    if kind == "year":
        m = re.search(r"(?:19|20)\d{2}", raw)
        return [(int(m.group(0)), s + m.start(), s + m.end(), None)] if m else []
    if kind == "frequency":
        for kw, v in _FREQ:
            i = raw.find(kw)
            if i >= 0:
                return [(v, s + i, s + i + len(kw), None)]
        return []
    if kind == "employment_type":
        for kw, v in _EMPLOYMENT:
            i = raw.find(kw)
            if i >= 0:
                return [(v, s + i, s + i + len(kw), None)]
        return []
    # org / text: the trimmed raw value
    off = s + (len(raw) - len(raw.lstrip()))
    val = raw.strip().rstrip("（(").strip()
    val = re.sub(r"[（(]\s*(?:盖章|公章|签章)\s*[）)]$", "", val).strip()
    return [(val, off, off + len(val), None)] if val else []


def extract_fields(text: str, doc_type: str) -> dict[str, FieldValue]:
    """Fields of FIELDS_BY_DOC_TYPE[doc_type] with exact offsets into `text`."""
    data = cached_data()
    labels = _compiled().get(doc_type)
    if labels is None:
        return {}
    scale = _unit_scale(text)
    out: dict[str, FieldValue] = {}
    for m in labels.rx.finditer(text):
        name = labels.by_label[re.sub(r"[ \t\u3000]", "", m.group("label"))]
        spec = labels.specs[name]
        targets = spec.fields or [name]
        if all(t in out for t in targets):
            continue
        s, e = _value_span(text, m.end())
        values = _convert(spec.type, text, s, e, scale)
        for target, (v, vs, ve, cur) in zip(targets, values):
            if target not in out and v not in (None, ""):
                conf = 0.95 if m.group("sep").strip() else 0.85
                out[target] = FieldValue(value=v, start=vs, end=ve, confidence=conf,
                                         currency=cur if spec.type == "money" else None)
    for pat in data.prose.get(doc_type, []):  # prose layouts (收入证明)
        for m in pat.finditer(text):
            for name, val in m.groupdict().items():
                if val is None or name in out:
                    continue
                kind = labels.specs[name].type if name in labels.specs else "text"
                conv = _convert(kind, text, m.start(name), m.end(name), scale)
                if conv:
                    v, vs, ve, cur = conv[0]
                    out[name] = FieldValue(value=v, start=vs, end=ve, confidence=0.8,
                                           currency=cur if kind == "money" else None)
    _letterhead(text, doc_type, out)
    if doc_type == "pay_stub" and "gross_pay" in out:
        g = out["gross_pay"]
        freq = str(out["pay_frequency"].value) if "pay_frequency" in out else "monthly"
        out["monthly_gross_income"] = FieldValue(
            value=round(float(g.value) * _FREQ_PER_MONTH[freq], 2), start=g.start, end=g.end,
            confidence=round(g.confidence * (1.0 if "pay_frequency" in out else 0.8), 3), currency=g.currency)
    return {k: out[k] for k in sorted(out)}


def _letterhead(text: str, doc_type: str, out: dict[str, FieldValue]) -> None:
    """Names printed as a title ("中国工商银行 个人账户对账单", "某某有限公司 2026年3月工资条")."""
    head_end = sum(len(x) + 1 for x in text.splitlines()[:3])
    head = text[:head_end]
    wants = {"bank_statement": ("bank_name", _BANK_IN_LINE), "pay_stub": ("employer_name", _ORG_IN_LINE),
             "financial_statement": ("company_name", _ORG_IN_LINE), "employment_letter": ("employer_name", _ORG_IN_LINE)}
    if doc_type not in wants:
        return
    name, rx = wants[doc_type]
    if name in out:
        return
    m = rx.search(head)
    if m:
        out[name] = FieldValue(value=m.group(0), start=m.start(), end=m.end(), confidence=0.7)


def registration_problem(fields: dict[str, FieldValue]) -> FieldValue | None:
    """The registration number when it fails the GB 32100-2015 check, else None."""
    reg = fields.get("registration_number")
    if reg is not None and not is_valid_uscc(str(reg.value)):
        return reg
    return None
