"""Cross-checks between what the applicant stated and what the documents show.

Why separate from the rules: these are facts (does the name match, is the ID valid, is the
income what was stated), computed once, recorded in `Decision.crosscheck` for the officer and
the evidence log, and only then judged by the policy rules. Thresholds come from the policy
file's `crosscheck` section. The date of birth is read here for one purpose only: the
age-of-majority check (`is_minor`), which is legal capacity, not a risk feature.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from creditflow.decision.contract import DecisionInput, DocumentFacts

AGE_OF_MAJORITY = 18
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx"})
_COMPANY_SUFFIXES = frozenset({"ltd", "limited", "co", "company", "inc", "llc", "corp", "corporation",
                               "gmbh", "ag", "plc", "sa", "llp", "group", "the"})
_FREQ_PER_MONTH = {"weekly": 52 / 12, "biweekly": 26 / 12, "semimonthly": 2.0, "monthly": 1.0}
PERSON_NAME_FIELDS = {"id_document": "full_name", "pay_stub": "employee_name",
                      "employment_letter": "employee_name", "bank_statement": "account_holder",
                      "tax_return": "taxpayer_name", "utility_bill": "customer_name"}
COMPANY_NAME_FIELDS = {"business_license": "company_name", "financial_statement": "company_name",
                       "bank_statement": "account_holder"}


class NameCheck(BaseModel):
    document_id: str
    doc_type: str
    field: str
    value: str
    similarity: float
    match: bool


class IncomeCheck(BaseModel):
    stated: float
    verified: float | None = None
    source: str | None = None  # "pay_stub" | "employment_letter" | "tax_return" | "financial_statement"
    diff_pct: float | None = None
    within_tolerance: bool | None = None


class CrossCheck(BaseModel):
    names: list[NameCheck] = Field(default_factory=list)
    name_mismatch: bool = False
    name_match_score: float = 1.0
    income: IncomeCheck
    id_present: bool = False
    id_expiry: str | None = None
    id_expired: bool = False
    is_minor: bool = False
    date_problems: list[str] = Field(default_factory=list)
    dates_implausible: bool = False
    unreadable_documents: list[str] = Field(default_factory=list)
    missing_fields: list[str] = Field(default_factory=list)
    nsf_count: int = 0
    notes: list[str] = Field(default_factory=list)


def normalise_name(name: str, company: bool = False) -> list[str]:
    return list(_normalise_name(name, company))


@lru_cache(maxsize=4096)
def _normalise_name(name: str, company: bool) -> tuple[str, ...]:
    """Cached: one decision compares the applicant's name with every document's (a pure function of its input)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    tokens = re.findall(r"[^\W_]+", text)
    drop = _COMPANY_SUFFIXES if company else _TITLES
    return tuple(t for t in tokens if t not in drop)


def name_similarity(a: str, b: str, company: bool = False) -> float:
    """0..1: token-sorted sequence similarity; 1.0 when one name's tokens all appear in the other
    (middle names, "Smith, Jane" vs "Jane Smith") provided at least two tokens match."""
    ta, tb = normalise_name(a, company), normalise_name(b, company)
    if not ta or not tb:
        return 0.0
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if set(short) <= set(long_) and (len(short) >= 2 or len(long_) == 1):
        return 1.0
    return round(SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio(), 4)


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def is_minor(date_of_birth: date, as_of: date) -> bool:
    """Legal capacity: younger than the age of majority on `as_of` (birthday counts as of age)."""
    try:
        majority = date_of_birth.replace(year=date_of_birth.year + AGE_OF_MAJORITY)
    except ValueError:  # 29 February -> 1 March
        majority = date(date_of_birth.year + AGE_OF_MAJORITY, 3, 1)
    return as_of < majority


def _first(docs: list[DocumentFacts], doc_type: str) -> DocumentFacts | None:
    return next((d for d in docs if d.doc_type == doc_type), None)


def _money(doc: DocumentFacts, field: str, currency: str, notes: list[str]) -> float | None:
    v = to_float(doc.fields.get(field))
    cur = doc.currencies.get(field)
    if v is not None and cur and cur != currency:
        notes.append(f"{doc.doc_type}.{field} is in {cur}, application in {currency}: not compared")
        return None
    return v


def _income(stated: float, docs: list[DocumentFacts], currency: str, tolerance: float,
            notes: list[str]) -> IncomeCheck:
    verified, source = None, None
    stub = _first(docs, "pay_stub")
    if stub is not None:
        verified = _money(stub, "monthly_gross_income", currency, notes)
        if verified is None:
            gross = _money(stub, "gross_pay", currency, notes)
            freq = str(stub.fields.get("pay_frequency") or "").lower()
            if gross is not None and freq in _FREQ_PER_MONTH:
                verified = gross * _FREQ_PER_MONTH[freq]
        source = "pay_stub" if verified is not None else None
    if verified is None and (letter := _first(docs, "employment_letter")) is not None:
        annual = _money(letter, "annual_salary", currency, notes)
        if annual is not None:
            verified, source = annual / 12, "employment_letter"
    if verified is None and (tax := _first(docs, "tax_return")) is not None:
        agi = _money(tax, "adjusted_gross_income", currency, notes)
        if agi is not None:
            verified, source = agi / 12, "tax_return"
    if verified is None or verified <= 0:
        return IncomeCheck(stated=stated, verified=verified, source=source)
    diff = abs(stated - verified) / verified
    return IncomeCheck(stated=stated, verified=round(verified, 2), source=source, diff_pct=round(diff, 4),
                       within_tolerance=diff <= tolerance)


def _common(inp: DecisionInput, cfg: dict[str, Any], cc: CrossCheck) -> None:
    """Checks shared by all products: readability, required fields, date plausibility, NSF."""
    required: dict[str, list[str]] = cfg.get("required_fields", {})
    for doc in inp.documents:
        if doc.doc_type in (None, "other"):
            cc.unreadable_documents.append(doc.document_id)
            continue
        for f in required.get(doc.doc_type, []):
            if doc.fields.get(f) in (None, ""):
                cc.missing_fields.append(f"{doc.doc_type}.{f}")
    as_of = inp.as_of
    max_stmt = int(cfg.get("statement_max_days", 95))
    stub_age = int(cfg.get("pay_stub_max_age_days", 120))
    for doc in inp.documents:
        f = doc.fields
        if doc.doc_type == "pay_stub" and (pd_ := parse_date(f.get("pay_date"))):
            if pd_ > as_of:
                cc.date_problems.append(f"pay_stub.pay_date {pd_} is in the future")
            elif (as_of - pd_).days > stub_age:
                cc.date_problems.append(f"pay_stub.pay_date {pd_} is older than {stub_age} days")
        if doc.doc_type == "bank_statement":
            ps, pe = parse_date(f.get("period_start")), parse_date(f.get("period_end"))
            if ps and pe:
                if ps > pe:
                    cc.date_problems.append("bank_statement period starts after it ends")
                elif (pe - ps).days > max_stmt:
                    cc.date_problems.append(f"bank_statement period longer than {max_stmt} days")
            if pe and pe > as_of:
                cc.date_problems.append(f"bank_statement.period_end {pe} is in the future")
            nsf = to_float(f.get("nsf_count"))
            if nsf is not None:
                cc.nsf_count += int(nsf)
        if doc.doc_type == "employment_letter" and (sd := parse_date(f.get("start_date"))) and sd > as_of:
            cc.date_problems.append(f"employment_letter.start_date {sd} is in the future")
        if doc.doc_type in ("financial_statement", "business_license"):
            for key in ("period_end", "established_date"):
                d = parse_date(f.get(key))
                if d and d > as_of:
                    cc.date_problems.append(f"{doc.doc_type}.{key} {d} is in the future")
    cc.dates_implausible = bool(cc.date_problems)


def _names(expected: str, inp: DecisionInput, fields: dict[str, str], threshold: float, company: bool,
           cc: CrossCheck) -> None:
    for doc in inp.documents:
        field = fields.get(doc.doc_type or "")
        value = doc.fields.get(field) if field else None
        if not isinstance(value, str) or not value.strip():
            continue
        sim = name_similarity(expected, value, company=company)
        cc.names.append(NameCheck(document_id=doc.document_id, doc_type=str(doc.doc_type), field=str(field),
                                  value=value, similarity=sim, match=sim >= threshold))
    if cc.names:
        cc.name_match_score = min(n.similarity for n in cc.names)
        cc.name_mismatch = any(not n.match for n in cc.names)


def crosscheck_consumer(inp: DecisionInput, cfg: dict[str, Any]) -> CrossCheck:
    a = inp.applicant
    notes: list[str] = []
    cc = CrossCheck(income=_income(float(a.get("monthly_income") or 0.0), inp.documents, inp.currency,
                                   float(cfg.get("income_tolerance", 0.10)), notes))
    cc.notes = notes
    _common(inp, cfg, cc)
    _names(str(a.get("full_name", "")), inp, PERSON_NAME_FIELDS, float(cfg.get("name_match_min", 0.85)),
           False, cc)
    dob = parse_date(a.get("date_of_birth"))
    cc.is_minor = bool(dob and is_minor(dob, inp.as_of))
    id_doc = _first(inp.documents, "id_document")
    if id_doc is not None:
        cc.id_present = True
        exp = parse_date(id_doc.fields.get("expiry_date"))
        cc.id_expiry = exp.isoformat() if exp else None
        cc.id_expired = bool(exp and exp < inp.as_of)
    return cc


def crosscheck_dealer(inp: DecisionInput, cfg: dict[str, Any]) -> CrossCheck:
    a = inp.applicant
    notes: list[str] = []
    stated = float(a.get("annual_revenue") or 0.0)
    cc = CrossCheck(income=IncomeCheck(stated=stated))
    fs = _first(inp.documents, "financial_statement")
    if fs is not None:
        rev = _money(fs, "revenue", inp.currency, notes)
        if rev and rev > 0:
            diff = abs(stated - rev) / rev
            cc.income = IncomeCheck(stated=stated, verified=rev, source="financial_statement",
                                    diff_pct=round(diff, 4),
                                    within_tolerance=diff <= float(cfg.get("revenue_tolerance", 0.10)))
    cc.notes = notes
    _common(inp, cfg, cc)
    _names(str(a.get("company_name", "")), inp, COMPANY_NAME_FIELDS, float(cfg.get("name_match_min", 0.85)),
           True, cc)
    lic = _first(inp.documents, "business_license")
    if lic is not None:
        rep = lic.fields.get("legal_representative")
        if isinstance(rep, str) and rep.strip() and a.get("legal_representative"):
            sim = name_similarity(str(a["legal_representative"]), rep)
            ok = sim >= float(cfg.get("name_match_min", 0.85))
            cc.names.append(NameCheck(document_id=lic.document_id, doc_type="business_license",
                                      field="legal_representative", value=rep, similarity=sim, match=ok))
            cc.name_match_score = min(cc.name_match_score, sim)
            cc.name_mismatch = cc.name_mismatch or not ok
    return cc


def registration_mismatch(inp: DecisionInput) -> bool:
    lic = _first(inp.documents, "business_license")
    if lic is None:
        return False
    doc_no = str(lic.fields.get("registration_number") or "").strip().upper()
    app_no = str(inp.applicant.get("registration_number") or "").strip().upper()
    return bool(doc_no and app_no and doc_no != app_no)
