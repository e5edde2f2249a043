"""Hand-written documents (one per type) with their gold fields, shared by the NLP tests."""

from __future__ import annotations

CASES: dict[str, tuple[str, dict[str, object]]] = {
    "pay_stub": ("""Lakeshore Printing Inc.
EARNINGS STATEMENT
Employee Name: Nadia K. Brooks          Employee ID: 20931
Pay Date: March 13, 2026                Pay Frequency: Bi-Weekly
Gross Pay: $3,250.00
Net Pay: $2,411.75
YTD Gross: $19,500.00
""", {"employee_name": "Nadia K. Brooks", "employer_name": "Lakeshore Printing Inc.", "pay_date": "2026-03-13",
      "pay_frequency": "biweekly", "gross_pay": 3250.0, "net_pay": 2411.75, "ytd_gross": 19500.0,
      "monthly_gross_income": 7041.67}),
    "bank_statement": ("""Prairie State Bank
Account Statement
Account Holder: Oscar Lindqvist
Statement Period: 04/01/2026 - 04/30/2026
Opening Balance: 1,520.10 USD
Total Deposits: 3,900.00 USD
Total Withdrawals: 4,100.55 USD
Closing Balance: 1,319.55 USD
Returned Items: 1
""", {"account_holder": "Oscar Lindqvist", "bank_name": "Prairie State Bank", "period_start": "2026-04-01",
      "period_end": "2026-04-30", "opening_balance": 1520.10, "closing_balance": 1319.55, "total_deposits": 3900.0,
      "total_withdrawals": 4100.55, "nsf_count": 1}),
    "employment_letter": ("""Orchid Hotels LLC
1 Bay Street

To Whom It May Concern:

This letter is to confirm that Samir Haddad has been employed with Orchid Hotels LLC since 15 Feb 2019 as a
Front Desk Manager. He is currently employed on a part-time basis with an annual salary of USD 41250.00.

Sincerely,
Lena Ortiz
""", {"employee_name": "Samir Haddad", "employer_name": "Orchid Hotels LLC", "job_title": "Front Desk Manager",
      "start_date": "2019-02-15", "annual_salary": 41250.0, "employment_type": "part_time"}),
    "id_document": ("""WASHINGTON
DRIVER LICENSE
DL NO: WDL88312KQ7
NAME: MIRA J CHOWDHURY
DOB: 11/02/1990
EXP: 11/02/2030
""", {"full_name": "MIRA J CHOWDHURY", "date_of_birth": "1990-11-02", "id_number": "WDL88312KQ7",
      "expiry_date": "2030-11-02"}),
    "business_license": ("""BUSINESS LICENSE
Unified Social Credit Code: 91110000600037341L
Name: Beijing Jingcheng Auto Dealers Co., Ltd.
Legal Representative: Sun Hao
Registered Capital: RMB 12,000,000
Date of Establishment: 2003-04-09
""", {"company_name": "Beijing Jingcheng Auto Dealers Co., Ltd.", "registration_number": "91110000600037341L",
      "legal_representative": "Sun Hao", "established_date": "2003-04-09", "registered_capital": 12_000_000.0}),
    "financial_statement": ("""Westfield Tractor Supply LLC
FINANCIAL STATEMENTS
For the year ended December 31, 2025
Revenue                         8,450,000
Net Income                        (120,500)
Total Assets                    5,900,000
Total Liabilities               3,100,000
Total Liabilities and Equity    5,900,000
""", {"company_name": "Westfield Tractor Supply LLC", "period_end": "2025-12-31", "revenue": 8_450_000.0,
      "net_income": -120_500.0, "total_assets": 5_900_000.0, "total_liabilities": 3_100_000.0}),
    "tax_return": ("""Form 1040   U.S. Individual Income Tax Return   2024
Name: Theo Marchetti
11  This is your adjusted gross income . . . 11   72,480
""", {"taxpayer_name": "Theo Marchetti", "tax_year": 2024, "adjusted_gross_income": 72480.0}),
    "utility_bill": ("""Riverbend Water Authority
Customer Name: June Park
Previous Balance: $40.00
Total Amount Due: $57.32
""", {"customer_name": "June Park", "amount_due": 57.32}),
}

