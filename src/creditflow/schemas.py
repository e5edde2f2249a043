"""Application data as the applicant submits it (DESIGN.md "HTTP API"): the one gatekeeper.

Unknown fields are rejected (`extra="forbid"`) so a typo never silently drops data, and
the protected attributes an applicant may legitimately provide (date of birth, for the
age-of-majority knock-out) are named here so decision code can prove it never reads them
as features.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Union

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Product = Literal["consumer_installment", "dealer_working_capital"]
Money = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


def encodable(value: Any) -> Any:
    """Reject text that cannot be stored or hashed as UTF-8 (lone surrogates from JSON escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text contains invalid unicode (a lone surrogate)") from None
    elif isinstance(value, (list, tuple)):
        for item in value:
            encodable(item)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_only(cls, value: Any) -> Any:
        return encodable(value)


class ConsumerApplicant(Strict):
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str = Field(min_length=3, max_length=40)
    address: str = Field(min_length=1, max_length=500)
    employment_status: Literal["employed", "self_employed", "unemployed", "retired", "student"]
    employer_name: str | None = Field(default=None, max_length=200)
    employment_years: float = Field(ge=0, le=80, allow_inf_nan=False)
    monthly_income: Money
    monthly_debt_payments: Money
    housing: Literal["own", "rent", "free"]
    checking_balance: Money | None = None
    savings_balance: Money
    credit_history: Literal["no_credits", "all_paid", "existing_paid", "delayed_before", "critical"]
    existing_credits: int = Field(ge=0, le=100)
    dependents: int = Field(ge=0, le=30)


class DealerApplicant(Strict):
    company_name: str = Field(min_length=1, max_length=300)
    registration_number: str = Field(min_length=1, max_length=40)
    legal_representative: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str = Field(min_length=3, max_length=40)
    address: str = Field(min_length=1, max_length=500)
    years_in_business: float = Field(ge=0, le=300, allow_inf_nan=False)
    annual_revenue: Money
    anchor_partner: str = Field(min_length=1, max_length=300)
    monthly_debt_payments: Money


class ApplicationCreate(Strict):
    product: Product
    applicant: Union[ConsumerApplicant, DealerApplicant]
    requested_amount: float = Field(gt=0, le=10_000_000, allow_inf_nan=False)
    term_months: int = Field(ge=1, le=120)
    purpose: str = Field(min_length=1, max_length=500)
    currency: Literal["USD", "CNY", "EUR"] = "USD"
    notes: list[Annotated[str, Field(max_length=20_000)]] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _applicant_matches_product(self) -> "ApplicationCreate":
        expected = ConsumerApplicant if self.product == "consumer_installment" else DealerApplicant
        if not isinstance(self.applicant, expected):
            raise ValueError(f"applicant fields do not match product {self.product!r}")
        return self


REQUIRED_DOCUMENTS: dict[str, list[list[str]]] = {
    # each inner list is "one of"
    "consumer_installment": [["id_document"], ["pay_stub", "employment_letter"], ["bank_statement"]],
    "dealer_working_capital": [["business_license"], ["financial_statement"], ["bank_statement"]],
}


def missing_documents(product: str, present_doc_types: set[str]) -> list[str]:
    """Names of required documents still missing; an alternative group prints as 'a_or_b'."""
    missing = []
    for group in REQUIRED_DOCUMENTS[product]:
        if not present_doc_types.intersection(group):
            missing.append("_or_".join(group))
    return missing
