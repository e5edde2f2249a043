"""Demo applicants and their documents, used by `creditflow up` and by the end-to-end tests.

Four applicants chosen to end differently under the shipped policy: a clear approval, a
decline, a referral to the officer queue and an incomplete application waiting for a document.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from creditflow.config import Settings


def id_document(name: str, dob: str, number: str = "D4829113", expires: str = "2031-06-30") -> str:
    return (f"STATE OF CALIFORNIA\nDRIVER LICENSE\n\nName: {name}\nDate of Birth: {dob}\n"
            f"License No: {number}\nExpires: {expires}\nClass: C\n")


def pay_stub(name: str, employer: str, gross: float, net: float, pay_date: date | None = None,
             frequency: str = "Monthly") -> str:
    pay_date = pay_date or (date.today().replace(day=1) - timedelta(days=1))
    return (f"{employer.upper()}\nEARNINGS STATEMENT\n\nEmployee: {name}\nEmployer: {employer}\n"
            f"Pay Date: {pay_date.strftime('%m/%d/%Y')}\nPay Frequency: {frequency}\n"
            f"Gross Pay: ${gross:,.2f}\nNet Pay: ${net:,.2f}\nYTD Gross: ${gross * 10:,.2f}\n")


def bank_statement(name: str, opening: float, deposits: float, withdrawals: float, nsf: int = 0,
                   bank: str = "First National Bank") -> str:
    end = date.today().replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    closing = opening + deposits - withdrawals
    return (f"{bank.upper()}\nACCOUNT STATEMENT\n\nBank: {bank}\nAccount Holder: {name}\n"
            f"Statement Period: {start.strftime('%m/%d/%Y')} to {end.strftime('%m/%d/%Y')}\n"
            f"Opening Balance: ${opening:,.2f}\nTotal Deposits: ${deposits:,.2f}\n"
            f"Total Withdrawals: ${withdrawals:,.2f}\nClosing Balance: ${closing:,.2f}\n"
            f"Returned Items (NSF): {nsf}\n")


def consumer(name: str, dob: str, income: float, debt: float, **over: Any) -> dict[str, Any]:
    base = {
        "full_name": name, "date_of_birth": dob, "email": f"{name.split()[0].lower()}@example.com",
        "phone": "+1 415 555 0100", "address": "12 Market Street, San Francisco, CA",
        "employment_status": "employed", "employer_name": "Acme Logistics Inc", "employment_years": 8,
        "monthly_income": income, "monthly_debt_payments": debt, "housing": "own", "checking_balance": 3200.0,
        "savings_balance": 15000.0, "credit_history": "all_paid", "existing_credits": 1, "dependents": 0,
    }
    base.update(over)
    return base


def demo_cases() -> list[dict[str, Any]]:
    """(label, application body, documents) for the demo and the end-to-end tests."""
    strong = consumer("Alice Martin", "1985-04-12", 6000, 300)
    weak = consumer("Bob Stone", "1990-09-03", 2500, 1900, employment_years=0.5, housing="rent",
                    checking_balance=None, savings_balance=50.0, credit_history="critical", existing_credits=4,
                    employer_name="Quick Staffing LLC")
    refer = consumer("Carol Diaz", "1979-01-22", 9000, 800, employer_name="Northwind Traders")
    incomplete = consumer("Dan Wu", "1992-11-30", 5000, 400, employer_name="Contoso Ltd")
    return [
        {"label": "clear approval", "expect": "approved",
         "body": {"product": "consumer_installment", "applicant": strong, "requested_amount": 2000,
                  "term_months": 12, "purpose": "furniture", "notes": ["Customer since 2019, no late payments."]},
         "documents": [id_document("Alice Martin", "1985-04-12"),
                       pay_stub("Alice Martin", "Acme Logistics Inc", 6000, 4520),
                       bank_statement("Alice Martin", 2800, 6000, 5100)]},
        {"label": "decline", "expect": "declined",
         "body": {"product": "consumer_installment", "applicant": weak, "requested_amount": 4500,
                  "term_months": 24, "purpose": "electronics",
                  "notes": ["Applicant says he took two payday loans last month and missed his card payment."]},
         "documents": [id_document("Bob Stone", "1990-09-03", "D7731002"),
                       pay_stub("Bob Stone", "Quick Staffing LLC", 2500, 2010),
                       bank_statement("Bob Stone", 40, 2500, 2700, nsf=3)]},
        {"label": "referral to officer", "expect": "in_review",
         "body": {"product": "consumer_installment", "applicant": refer, "requested_amount": 7000,
                  "term_months": 12, "purpose": "appliance", "notes": []},
         "documents": [id_document("Carol Diaz", "1979-01-22", "D5512090"),
                       pay_stub("Carol Diaz", "Northwind Traders", 9000, 6650),
                       bank_statement("Carol Diaz", 5200, 9000, 7400)]},
        {"label": "incomplete (bank statement missing)", "expect": "info_requested",
         "body": {"product": "consumer_installment", "applicant": incomplete, "requested_amount": 1500,
                  "term_months": 6, "purpose": "appliance", "notes": []},
         "documents": [id_document("Dan Wu", "1992-11-30", "D1200456"),
                       pay_stub("Dan Wu", "Contoso Ltd", 5000, 3800)]},
    ]


def demo_tokens(settings: Settings) -> dict[str, str]:
    from creditflow.security.tokens import TokenService

    ts = TokenService(settings)
    return {"applicant": ts.issue("demo-applicant", "applicant"), "officer": ts.issue("demo-officer", "officer"),
            "officer2": ts.issue("demo-officer-2", "officer"),
            "senior_officer": ts.issue("demo-senior", "senior_officer")}


async def create_case(http: httpx.AsyncClient, token: str, case: dict[str, Any], key: str | None = None) -> str:
    """Create the application and upload its documents through the API (not submitted yet)."""
    h = {"Authorization": f"Bearer {token}"}
    r = await http.post("/v1/applications", json=case["body"], headers={**h, "Idempotency-Key": key} if key else h)
    r.raise_for_status()
    app_id = r.json()["id"]
    for i, text in enumerate(case["documents"]):
        r = await http.post(f"/v1/applications/{app_id}/documents", headers=h,
                            files={"file": (f"doc{i}.txt", text.encode(), "text/plain")})
        r.raise_for_status()
    return app_id


async def submit_case(http: httpx.AsyncClient, token: str, case: dict[str, Any], key: str | None = None) -> str:
    app_id = await create_case(http, token, case, key)
    r = await http.post(f"/v1/applications/{app_id}/submit", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    return app_id


async def seed_demo(settings: Settings, tokens: dict[str, str] | None = None) -> list[str]:
    tokens = tokens or demo_tokens(settings)
    lines = []
    async with httpx.AsyncClient(base_url=f"http://{settings.api_host}:{settings.api_port}", timeout=60) as http:
        from creditflow.demo_cases_extra import extra_cases

        extra = [c for c in extra_cases() if c["label"] in ("dealer (valid licence)", "Chinese consumer (CNY)")]
        for i, case in enumerate(demo_cases() + extra):
            app_id = await submit_case(http, tokens["applicant"], case, key=f"demo-{i}-{case['label']}")
            lines.append(f"demo application {app_id}: {case['label']} (expected: {case['expect']})")
    return lines
