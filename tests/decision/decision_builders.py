"""Builders for decision inputs: a strong consumer applicant with complete, consistent documents."""

from __future__ import annotations

from datetime import date
from typing import Any

from creditflow.decision.contract import DecisionInput, DocumentFacts

AS_OF = date(2025, 11, 20)


def consumer_applicant(**over: Any) -> dict[str, Any]:
    a = dict(full_name="Jane Q. Smith", date_of_birth="1985-04-02", email="jane@example.org", phone="555-0100",
             address="1 Main St", employment_status="employed", employer_name="Acme", employment_years=8,
             monthly_income=6000, monthly_debt_payments=300, housing="own", checking_balance=None,
             savings_balance=2500, credit_history="existing_paid", existing_credits=1, dependents=0)
    a.update(over)
    return a


def consumer_docs(name: str = "Jane Smith", income: float = 6100, expiry: str = "2030-01-01",
                  **bank: Any) -> list[DocumentFacts]:
    bank_fields = {"account_holder": name, "period_start": "2025-10-01", "period_end": "2025-10-31",
                   "closing_balance": 1500.0, "nsf_count": 0}
    bank_fields.update(bank)
    return [
        DocumentFacts(document_id="id1", sha256="a" * 64, doc_type="id_document",
                      fields={"full_name": name, "expiry_date": expiry, "date_of_birth": "1985-04-02"}),
        DocumentFacts(document_id="ps1", sha256="b" * 64, doc_type="pay_stub",
                      fields={"employee_name": name.upper(), "monthly_gross_income": income,
                              "pay_date": "2025-10-31"}),
        DocumentFacts(document_id="bs1", sha256="c" * 64, doc_type="bank_statement", fields=bank_fields),
    ]


def consumer_input(amount: float = 4000, term: int = 12, purpose: str = "used car",
                   applicant: dict[str, Any] | None = None, documents: list[DocumentFacts] | None = None,
                   signals: list[Any] | None = None, app_id: str = "app-1") -> DecisionInput:
    return DecisionInput(application_id=app_id, product="consumer_installment", requested_amount=amount,
                         term_months=term, purpose=purpose, applicant=applicant or consumer_applicant(),
                         documents=consumer_docs() if documents is None else documents,
                         signals=signals or [], as_of=AS_OF)


def dealer_input(amount: float = 15000, **over: Any) -> DecisionInput:
    a = dict(company_name="Bright Motors Co., Ltd.", registration_number="91310000MA1FL0XXXX",
             legal_representative="Li Wei", email="ops@bright.example", phone="021-555", address="Shanghai",
             years_in_business=8, annual_revenue=2_400_000, anchor_partner="Shanghai Automotive",
             monthly_debt_payments=5000)
    a.update(over)
    docs = [
        DocumentFacts(document_id="bl", sha256="d" * 64, doc_type="business_license",
                      fields={"company_name": "Bright Motors Co Ltd", "registration_number": "91310000MA1FL0XXXX",
                              "legal_representative": "Li Wei", "established_date": "2017-03-01"}),
        DocumentFacts(document_id="fs", sha256="e" * 64, doc_type="financial_statement",
                      fields={"company_name": "Bright Motors", "period_end": "2024-12-31", "revenue": 2_450_000,
                              "net_income": 150_000, "total_assets": 1_200_000, "total_liabilities": 500_000}),
        DocumentFacts(document_id="bk", sha256="f" * 64, doc_type="bank_statement",
                      fields={"account_holder": "BRIGHT MOTORS CO., LTD.", "period_start": "2025-10-01",
                              "period_end": "2025-10-31", "total_deposits": 210_000, "nsf_count": 0}),
    ]
    return DecisionInput(application_id="dealer-1", product="dealer_working_capital", requested_amount=amount,
                         term_months=6, purpose="inventory", applicant=a, documents=docs, as_of=AS_OF)

