"""The NLP contract of DESIGN.md, exactly: every consumer (workflow, API, console) reads this."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal[
    "pay_stub", "bank_statement", "employment_letter", "id_document", "business_license",
    "financial_statement", "tax_return", "utility_bill",
]
DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]

RiskCode = Literal[
    "EMPLOYMENT_LOSS", "INCOME_INSTABILITY", "GAMBLING", "HIGH_COST_BORROWING", "DELINQUENCY",
    "BANKRUPTCY", "LEGAL_JUDGMENT", "OVERDRAFT", "HIGH_DEBT_BURDEN", "FRAUD_INDICATOR",
    "UNVERIFIED_EMPLOYMENT", "BUSINESS_DISTRESS",
]
RISK_CODES: tuple[str, ...] = RiskCode.__args__  # type: ignore[attr-defined]

ProtectedCategory = Literal[
    "age", "sex", "marital_status", "religion", "race_ethnicity", "national_origin",
    "disability_health", "pregnancy",
]
PROTECTED_CATEGORIES: tuple[str, ...] = ProtectedCategory.__args__  # type: ignore[attr-defined]

FIELDS_BY_DOC_TYPE: dict[str, tuple[str, ...]] = {
    "pay_stub": ("employee_name", "employer_name", "pay_date", "pay_frequency", "gross_pay",
                 "net_pay", "ytd_gross", "monthly_gross_income"),
    "bank_statement": ("account_holder", "bank_name", "period_start", "period_end", "opening_balance",
                       "closing_balance", "total_deposits", "total_withdrawals", "nsf_count"),
    "employment_letter": ("employee_name", "employer_name", "job_title", "start_date", "annual_salary",
                          "employment_type"),
    "id_document": ("full_name", "date_of_birth", "id_number", "expiry_date"),
    "business_license": ("company_name", "registration_number", "legal_representative",
                         "established_date", "registered_capital"),
    "financial_statement": ("company_name", "period_end", "revenue", "net_income", "total_assets",
                            "total_liabilities"),
    "tax_return": ("taxpayer_name", "tax_year", "adjusted_gross_income"),
    "utility_bill": ("customer_name", "amount_due"),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class FieldValue(_Model):
    value: Union[float, int, str]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    confidence: float = Field(ge=0, le=1)
    currency: str | None = None  # for money fields (ISO 4217), beyond the contract's minimum


class Entity(_Model):
    label: str
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Evidence(_Model):
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class RiskSignal(_Model):
    code: RiskCode
    polarity: Literal["affirmed", "negated", "hypothetical", "historical"]
    subject: Literal["applicant", "third_party"]
    severity: Literal["low", "medium", "high"]
    evidence: Evidence

    @property
    def counts_against_applicant(self) -> bool:
        return self.polarity == "affirmed" and self.subject == "applicant"


class ProtectedAttribute(_Model):
    category: ProtectedCategory
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class PiiSpan(_Model):
    type: Literal["PERSON", "ID_NUMBER", "ACCOUNT_NUMBER", "PHONE", "EMAIL", "ADDRESS", "DATE_OF_BIRTH"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Analysis(_Model):
    kind: Literal["document", "note"]
    doc_type: Union[DocType, Literal["other"], None] = None
    doc_type_confidence: float = Field(0.0, ge=0, le=1)
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    entities: list[Entity] = Field(default_factory=list)
    risk_signals: list[RiskSignal] = Field(default_factory=list)
    protected_attributes: list[ProtectedAttribute] = Field(default_factory=list)
    pii: list[PiiSpan] = Field(default_factory=list)
    model_version: str
    language: str | None = None  # "en" | "zh"; extra, optional
    classifier: str | None = None  # which classifier decided the doc type (rules | encoder)


class AnalyzeRequest(_Model):
    text: str
    kind: Literal["document", "note", "auto"] = "auto"
