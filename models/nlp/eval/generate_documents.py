"""Seeded generator of labelled credit documents for the NLP document evaluation.

Run:  python models/nlp/eval/generate_documents.py  (writes documents_{train,dev,test}.jsonl)

Why generated: real pay stubs and bank statements are PII, so the evaluation set is
synthetic. To keep it honest it mixes a hand-written core (core_documents.jsonl, written
without looking at the extractor) with several layouts per document type, varied money
and date formats, two-column layouts, missing fields, OCR-like character confusions and
"other" documents that must not be classified as any credit document.
The split is by a hash of the document id, so adding documents never moves old ones,
and the test slice is only ever read by `python -m creditflow.nlp.evaluate_documents`.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
SEED = 20260315
PER_TYPE = 42
N_OTHER = 24

FIRST = ["John", "Maria", "Wei", "Aisha", "Carlos", "Emily", "David", "Priya", "Michael", "Sofia", "James",
         "Li", "Fatima", "Robert", "Hannah", "Daniel", "Olivia", "Ahmed", "Grace", "Lucas", "Chen", "Nora",
         "Samuel", "Elena", "Kevin", "Julia", "Omar", "Rachel", "Thomas", "Mei"]
MIDDLE = ["A.", "B.", "J.", "M.", "R.", "", "", "", "", ""]
LAST = ["Smith", "Garcia", "Zhang", "Khan", "Rodriguez", "Johnson", "Nguyen", "Patel", "Brown", "Rossi",
        "Williams", "Wang", "Hassan", "Miller", "Schmidt", "Lee", "Martinez", "Okafor", "Kim", "Novak",
        "Anderson", "Liu", "O'Brien", "Fischer", "Silva", "Taylor", "Moore", "Clark", "Lopez", "Young"]
EMPLOYERS = ["Acme Logistics Inc.", "Northwind Traders LLC", "Blue Ridge Health Systems Inc.",
             "Summit Construction Co.", "Pioneer Software Corp.", "Harbor Foods Group", "Lakeside Dental LLC",
             "Granite State Manufacturing Inc.", "Redwood Retail Holdings", "Bright Path Education LLC",
             "Evergreen Transport Corp.", "Silverline Hospitality Group", "Keystone Insurance Company",
             "Cedar Valley Farms LLC", "Metro Electric Corp."]
BANKS = ["First National Bank", "Wells River Bank", "Union Savings Bank", "Pacific Coast Credit Union",
         "Citizens Trust Bank", "Horizon Community Bank", "Great Lakes Credit Union", "Bank of Springfield"]
TITLES = ["Senior Analyst", "Registered Nurse", "Warehouse Supervisor", "Software Engineer", "Sales Associate",
          "Accountant", "Project Manager", "Truck Driver", "Teacher", "Customer Service Representative",
          "Operations Manager", "Dental Hygienist"]
CN_COMPANIES = ["Shenzhen Huaxin Auto Parts Co., Ltd.", "Hangzhou Lvyuan Trading Co., Ltd.",
                "Suzhou Tianli Machinery Co., Ltd.", "Chengdu Jinsha Electric Vehicle Co., Ltd.",
                "Ningbo Haitian Logistics Co., Ltd.", "Guangzhou Baiyun Motor Sales Co., Ltd.",
                "Wuhan Changjiang Equipment Co., Ltd.", "Xiamen Lianfa Motors Co., Ltd."]
CN_NAMES = ["Zhang Wei", "Wang Fang", "Li Na", "Liu Yang", "Chen Jie", "Yang Min", "Zhao Lei", "Huang Li",
            "Zhou Qiang", "Wu Xiu"]
UTILITIES = ["City Power & Light", "Metro Water Authority", "Sunrise Gas Company", "Valley Electric Cooperative",
             "Bay Area Energy", "Northern Utilities"]
STREETS = ["Main Street", "Oak Avenue", "Maple Drive", "Elm Street", "Cedar Lane", "Park Road", "Lake View Blvd"]
CITIES = ["Springfield, IL 62701", "Austin, TX 78701", "Columbus, OH 43004", "Denver, CO 80202",
          "Portland, OR 97201", "Raleigh, NC 27601"]
STATES = ["ILLINOIS", "TEXAS", "OHIO", "COLORADO", "OREGON", "NORTH CAROLINA"]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FREQ_WORDS = {"weekly": ["Weekly", "WEEKLY", "weekly"], "biweekly": ["Bi-Weekly", "Biweekly", "Every two weeks"],
              "semimonthly": ["Semi-Monthly", "Semimonthly", "Twice a month"], "monthly": ["Monthly", "MONTHLY"]}
EMP_WORDS = {"full_time": ["full-time", "full-time, permanent", "Full Time"],
             "part_time": ["part-time", "Part Time", "part-time (24 hours per week)"],
             "contract": ["contract", "fixed-term contract", "Contractor"]}


class Gen:
    """Random values and surface formats, all from one seeded Random."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def person(self) -> str:
        mid = self.r.choice(MIDDLE)
        return " ".join(p for p in (self.r.choice(FIRST), mid, self.r.choice(LAST)) if p)

    def addr(self) -> str:
        return f"{self.r.randint(10, 9999)} {self.r.choice(STREETS)}\n{self.r.choice(CITIES)}"

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.r.randint(0, (end - start).days))

    def money(self, lo: float, hi: float, cents: bool = True) -> float:
        v = self.r.uniform(lo, hi)
        return round(v, 2) if cents else float(round(v))

    def fmt_money(self, v: float, currency: str = "USD", style: int | None = None) -> str:
        style = self.r.randint(0, 5) if style is None else style
        if currency == "CNY":
            return [f"RMB {v:,.2f}", f"¥{v:,.2f}", f"CNY {v:,.0f}", f"{v:,.2f} yuan", f"RMB {v:,.0f}",
                    f"¥ {v:,.0f}"][style]
        return [f"${v:,.2f}", f"{v:,.2f} USD", f"USD {v:.2f}", f"{v:,.2f}", f"$ {v:,.2f}", f"${v:,.2f}"][style]

    def fmt_date(self, d: date, style: int | None = None) -> str:
        style = self.r.randint(0, 5) if style is None else style
        return [d.strftime("%m/%d/%Y"), d.strftime("%B ") + f"{d.day}, {d.year}", f"{d.day} " + d.strftime("%b %Y"),
                d.isoformat(), d.strftime("%b ") + f"{d.day}, {d.year}", f"{d.day} " + d.strftime("%B %Y")][style]

    def uscc(self, valid: bool = True) -> str:
        body = self.r.choice("9") + self.r.choice("123") + f"{self.r.randint(110000, 659999)}" + \
            "".join(self.r.choice(USCC_CHARS) for _ in range(9))
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_W))
        check = USCC_CHARS[(31 - total % 31) % 31]
        if not valid:
            check = USCC_CHARS[(USCC_CHARS.index(check) + self.r.randint(1, 30)) % 31]
        return body + check


def two_columns(left: list[str], right: list[str], width: int = 44) -> str:
    """Render two blocks side by side, as a scanned two-column form comes out of OCR."""
    rows = max(len(left), len(right))
    left = left + [""] * (rows - len(left))
    right = right + [""] * (rows - len(right))
    return "\n".join((a.ljust(width) + b).rstrip() for a, b in zip(left, right))


# ----------------------------------------------------------------------------- pay stub
def pay_stub(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    emp, name = r.choice(EMPLOYERS), g.person()
    freq = r.choice(list(FREQ_WORDS))
    gross = g.money(600, 2500) if freq == "weekly" else g.money(1200, 6000)
    net = round(gross * r.uniform(0.68, 0.82), 2)
    periods = {"weekly": 52, "biweekly": 26, "semimonthly": 24, "monthly": 12}[freq]
    ytd = round(gross * r.randint(2, max(3, periods // 3)), 2)
    pay_date = g.day(date(2025, 6, 1), date(2026, 10, 31))
    monthly = round(gross * {"weekly": 52 / 12, "biweekly": 26 / 12, "semimonthly": 2.0, "monthly": 1.0}[freq], 2)
    fields = {"employee_name": name, "employer_name": emp, "pay_date": pay_date.isoformat(), "pay_frequency": freq,
              "gross_pay": gross, "net_pay": net, "ytd_gross": ytd, "monthly_gross_income": monthly}
    fw = r.choice(FREQ_WORDS[freq])
    pd = g.fmt_date(pay_date)
    layout = r.randint(0, 3)
    if layout == 0:
        text = (f"{emp}\n{g.addr()}\nEARNINGS STATEMENT\n\nEmployee Name: {name}\nEmployee ID: {r.randint(10000, 99999)}\n"
                f"Pay Date: {pd}\nPay Frequency: {fw}\n\nGross Pay: {g.fmt_money(gross)}\n"
                f"Total Deductions: {g.fmt_money(gross - net)}\nNet Pay: {g.fmt_money(net)}\nYTD Gross: {g.fmt_money(ytd)}\n")
    elif layout == 1:
        reg = round(gross * 0.9, 2)
        text = (f"{emp.upper()}\nPAYROLL STATEMENT\nEmployee: {name}        Employee ID: {r.randint(10000, 99999)}\n"
                f"Pay Date: {g.fmt_date(pay_date, 0)}    Pay Frequency: {fw}\n"
                f"EARNINGS            HOURS     CURRENT        YTD\n"
                f"Regular             80.00     {reg:>10,.2f}   {ytd * 0.9:>12,.2f}\n"
                f"Overtime             4.00     {gross - reg:>10,.2f}   {ytd * 0.1:>12,.2f}\n"
                f"Gross Pay                     {gross:>10,.2f}   {ytd:>12,.2f}\n"
                f"Federal Income Tax            {(gross - net) * 0.6:>10,.2f}\n"
                f"Social Security               {(gross - net) * 0.4:>10,.2f}\n"
                f"Net Pay                       {net:>10,.2f}\n")
    elif layout == 2:
        left = [emp, "PAY STATEMENT", f"Employee: {name}", f"Frequency: {fw}", f"Current Gross: {g.fmt_money(gross, style=0)}",
                f"Net Pay: {g.fmt_money(net, style=0)}"]
        right = ["", "", f"Check Date: {pd}", f"Period Ending: {g.fmt_date(pay_date - timedelta(days=3))}",
                 f"YTD Gross: {g.fmt_money(ytd, style=0)}", f"Deductions: {g.fmt_money(gross - net, style=0)}"]
        text = two_columns(left, right) + "\n"
    else:
        text = (f"Pay stub issued by {emp}\nPaid to {name}, paid {fw.lower()}.\nPayment date {pd}.\n"
                f"Gross earnings this period {g.fmt_money(gross)}; take-home (net pay) {g.fmt_money(net)}.\n"
                f"Year-to-date gross earnings {g.fmt_money(ytd)}.\n")
    return text, fields


# ----------------------------------------------------------------------------- bank statement
def bank_statement(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    bank, name = r.choice(BANKS), g.person()
    start = g.day(date(2025, 1, 1), date(2026, 9, 1)).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    opening = g.money(100, 20000)
    dep, wd = g.money(1000, 9000), g.money(800, 9000)
    closing = round(opening + dep - wd, 2)
    nsf = r.choice([0, 0, 0, 1, 2, 3])
    fields = {"account_holder": name, "bank_name": bank, "period_start": start.isoformat(), "period_end": end.isoformat(),
              "opening_balance": opening, "closing_balance": closing, "total_deposits": dep,
              "total_withdrawals": wd, "nsf_count": nsf}
    acct = f"****{r.randint(1000, 9999)}"
    tx = "\n".join(f"{(start + timedelta(days=i * 3 + 1)).strftime('%m/%d')}  {d:<28}{g.money(20, 900):>10,.2f}"
                   for i, d in enumerate(r.sample(["POS PURCHASE GROCERY", "ONLINE TRANSFER", "ATM WITHDRAWAL",
                                                   "PAYROLL DEPOSIT", "UTILITY PAYMENT", "CARD PURCHASE FUEL"], 4)))
    if nsf:
        tx += "\n" + "\n".join(f"{(start + timedelta(days=20 + i)).strftime('%m/%d')}  {'NSF RETURNED ITEM FEE':<28}{35:>10,.2f}"
                               for i in range(nsf))
    layout = r.randint(0, 3)
    if layout == 0:
        text = (f"{bank}\nAccount Statement\n\nAccount Holder: {name}\nAccount Number: {acct}\n"
                f"Statement Period: {g.fmt_date(start, 0)} - {g.fmt_date(end, 0)}\n\n"
                f"Opening Balance: {g.fmt_money(opening)}\nTotal Deposits: {g.fmt_money(dep)}\n"
                f"Total Withdrawals: {g.fmt_money(wd)}\nClosing Balance: {g.fmt_money(closing)}\n"
                f"NSF / Returned Items: {nsf}\n\nTRANSACTIONS\n{tx}\n")
    elif layout == 1:
        text = (f"{bank.upper()}\nMember FDIC\n\nPrepared for: {name}\n{g.addr()}\n"
                f"Statement Period: {g.fmt_date(start, 1)} through {g.fmt_date(end, 1)}\n\nACCOUNT SUMMARY\n"
                f"Beginning Balance          {g.fmt_money(opening, style=0)}\n"
                f"Deposits and Credits       {g.fmt_money(dep, style=0)}\n"
                f"Withdrawals and Debits     {g.fmt_money(wd, style=0)}\n"
                f"Ending Balance             {g.fmt_money(closing, style=0)}\n"
                f"Insufficient Funds Items   {nsf}\n\n{tx}\n")
    elif layout == 2:
        left = [bank, "CHECKING STATEMENT", f"Customer: {name}", f"Account: {acct}",
                f"From: {g.fmt_date(start, 3)}", f"To: {g.fmt_date(end, 3)}"]
        right = ["", "", f"Opening Balance: {g.fmt_money(opening, style=3)}", f"Deposits: {g.fmt_money(dep, style=3)}",
                 f"Withdrawals: {g.fmt_money(wd, style=3)}", f"Closing Balance: {g.fmt_money(closing, style=3)}",
                 f"Returned Items: {nsf}"]
        text = two_columns(left, right) + "\n\n" + tx + "\n"
    else:
        text = (f"{bank} - Monthly Statement of Account\nAccount holder: {name}   Account no. {acct}\n"
                f"Period: {g.fmt_date(start, 2)} to {g.fmt_date(end, 2)}\n"
                f"Balance on {g.fmt_date(start, 2)} (opening balance): {g.fmt_money(opening)}\n"
                f"Total deposits: {g.fmt_money(dep)}    Total withdrawals: {g.fmt_money(wd)}\n"
                f"Closing balance: {g.fmt_money(closing)}\nNumber of NSF items: {nsf}\n")
    return text, fields


# ----------------------------------------------------------------------------- employment letter
def employment_letter(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    emp, name, title = r.choice(EMPLOYERS), g.person(), r.choice(TITLES)
    start = g.day(date(2008, 1, 1), date(2025, 12, 31))
    etype = r.choice(["full_time", "full_time", "part_time", "contract"])
    salary = g.money(28000, 160000, cents=False)
    fields = {"employee_name": name, "employer_name": emp, "job_title": title, "start_date": start.isoformat(),
              "annual_salary": salary, "employment_type": etype}
    ew = r.choice(EMP_WORDS[etype])
    hr = g.person()
    letter_date = g.fmt_date(g.day(date(2026, 1, 1), date(2026, 10, 1)))
    pron = r.choice(["He", "She", "They"])
    be = "are" if pron == "They" else "is"
    layout = r.randint(0, 2)
    if layout == 0:
        text = (f"{emp}\n{g.addr()}\n\n{letter_date}\n\nTo Whom It May Concern:\n\n"
                f"This letter is to confirm that {name} has been employed with {emp} since {g.fmt_date(start)} "
                f"as a {title}. {pron} {be} currently employed on a {ew} basis with an annual salary of "
                f"{g.fmt_money(salary)}.\n\nPlease contact our office if you need further information.\n\n"
                f"Sincerely,\n\n{hr}\nHuman Resources Manager\n")
    elif layout == 1:
        text = (f"{emp.upper()}\nEMPLOYMENT VERIFICATION LETTER\nDate: {letter_date}\n\n"
                f"RE: Verification of employment\n\nEmployee Name: {name}\nPosition: {title}\n"
                f"Start Date: {g.fmt_date(start)}\nEmployment Type: {ew}\nAnnual Base Salary: {g.fmt_money(salary)}\n\n"
                f"This information is provided at the request of the employee.\n\n{hr}\nHR Director, {emp}\n")
    else:
        text = (f"Dear Sir or Madam,\n\nWe are pleased to verify that {name} joined {emp} on {g.fmt_date(start)} "
                f"and currently holds the position of {title}. {pron} earn{'s' if pron != 'They' else ''} a base salary "
                f"of {g.fmt_money(salary)} per year and {'works' if pron != 'They' else 'work'} on a {ew} basis.\n\n"
                f"Regards,\n{hr}\nPeople Operations\n{emp}\n")
    return text, fields


# ----------------------------------------------------------------------------- id document
def id_document(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    name = g.person().upper().replace(".", "")
    dob = g.day(date(1950, 1, 1), date(2004, 12, 31))
    exp = g.day(date(2024, 1, 1), date(2034, 12, 31))
    layout = r.randint(0, 2)
    if layout == 0:
        num = f"{r.choice('ABDGKMS')}{r.randint(100, 999)}-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"
        text = (f"{r.choice(STATES)}\nDRIVER LICENSE\nDL NO: {num}\nCLASS: D\nNAME: {name}\n{g.addr().upper()}\n"
                f"DOB: {g.fmt_date(dob, 0)}\nEXP: {g.fmt_date(exp, 0)}\nSEX: {r.choice('MF')}   HGT: 5-0{r.randint(1, 9)}\n")
    elif layout == 1:
        num = f"{r.randint(100000000, 999999999)}"
        text = (f"PASSPORT\nUNITED STATES OF AMERICA\nType: P    Code: USA    Passport No.: {num}\nName: {name}\n"
                f"Nationality: UNITED STATES OF AMERICA\nDate of Birth: {g.fmt_date(dob, 5).upper()}\n"
                f"Date of Issue: {g.fmt_date(exp - timedelta(days=3652), 5).upper()}\n"
                f"Date of Expiry: {g.fmt_date(exp, 5).upper()}\nAuthority: United States Department of State\n")
    else:
        num = f"ID{r.randint(1000000, 9999999)}"
        left = ["STATE IDENTIFICATION CARD", f"Full Name: {name}", f"ID Number: {num}"]
        right = [r.choice(STATES), f"Birth Date: {g.fmt_date(dob, 3)}", f"Expires: {g.fmt_date(exp, 3)}"]
        text = two_columns(left, right) + "\n"
    return text, {"full_name": name, "date_of_birth": dob.isoformat(), "id_number": num, "expiry_date": exp.isoformat()}


# ----------------------------------------------------------------------------- business license
def business_license(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    company, rep = r.choice(CN_COMPANIES), r.choice(CN_NAMES)
    valid = r.random() > 0.12
    code = g.uscc(valid)
    est = g.day(date(1998, 1, 1), date(2024, 12, 31))
    cap = float(r.choice([1, 2, 5, 10, 20, 30, 50, 100]) * 1_000_000)
    fields = {"company_name": company, "registration_number": code, "legal_representative": rep,
              "established_date": est.isoformat(), "registered_capital": cap, "_uscc_valid": valid}
    cap_s = r.choice([f"RMB {cap:,.0f}", f"RMB {cap / 1e6:g} million", f"{cap:,.0f} yuan", f"CNY {cap:,.2f}"])
    layout = r.randint(0, 2)
    if layout == 0:
        text = (f"BUSINESS LICENSE\n营业执照\nUnified Social Credit Code: {code}\nName: {company}\n"
                f"Type: Limited Liability Company\nLegal Representative: {rep}\nRegistered Capital: {cap_s}\n"
                f"Date of Establishment: {g.fmt_date(est)}\nBusiness Term: Long-term\n"
                f"Domicile: No. {r.randint(1, 300)} Industrial Road, {r.choice(['Shenzhen', 'Hangzhou', 'Suzhou'])}\n"
                f"Scope of Business: sale of automobiles and parts; after-sales service.\n"
                f"Registration Authority: Administration for Market Regulation\n")
    elif layout == 1:
        left = ["营业执照 BUSINESS LICENSE", f"统一社会信用代码 USCC: {code}", f"名称 Company Name: {company}",
                f"法定代表人 Legal Representative: {rep}"]
        right = ["(副本 duplicate)", f"注册资本 Registered Capital: {cap_s}", f"成立日期 Established: {g.fmt_date(est, 3)}",
                 "营业期限 Term: 30 years"]
        text = "\n".join(left) + "\n" + "\n".join(right) + "\n"
    else:
        text = (f"CERTIFICATE OF BUSINESS REGISTRATION (translation)\nThe enterprise {company}, "
                f"unified social credit code {code}, was established on {g.fmt_date(est)} with a registered "
                f"capital of {cap_s}. Its legal representative is {rep}.\nIssued by the Market Supervision Bureau.\n")
    return text, fields


# ----------------------------------------------------------------------------- financial statement
def financial_statement(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    cny = r.random() < 0.5
    company = r.choice(CN_COMPANIES if cny else EMPLOYERS)
    cur = "CNY" if cny else "USD"
    end = r.choice([date(2023, 12, 31), date(2024, 12, 31), date(2025, 12, 31), date(2025, 6, 30)])
    rev = g.money(2e6, 9e7, cents=False)
    ni = round(rev * r.uniform(-0.05, 0.15))
    assets = g.money(rev * 0.5, rev * 1.5, cents=False)
    liab = round(assets * r.uniform(0.3, 0.8))
    fields = {"company_name": company, "period_end": end.isoformat(), "revenue": rev, "net_income": float(ni),
              "total_assets": assets, "total_liabilities": float(liab)}

    def m(v: float) -> str:
        return f"({abs(v):,.0f})" if v < 0 else f"{v:,.0f}"

    layout = r.randint(0, 2)
    if layout == 0:
        text = (f"{company}\nFINANCIAL STATEMENTS\nFor the year ended {g.fmt_date(end, 1)}\n(Currency: {cur})\n\n"
                f"INCOME STATEMENT\nRevenue                         {m(rev)}\nCost of Sales                   {m(rev * 0.7)}\n"
                f"Gross Profit                    {m(rev * 0.3)}\nNet Income                      {m(ni)}\n\n"
                f"BALANCE SHEET\nTotal Assets                    {m(assets)}\nTotal Liabilities               {m(liab)}\n"
                f"Total Equity                    {m(assets - liab)}\nTotal Liabilities and Equity    {m(assets)}\n")
    elif layout == 1:
        text = (f"Company: {company}\nStatement of Financial Position and Results\nPeriod End: {g.fmt_date(end, 3)}\n\n"
                f"Total Revenue: {g.fmt_money(rev, cur, 0)}\nOperating Expenses: {g.fmt_money(rev * 0.8, cur, 0)}\n"
                f"Net Profit: {g.fmt_money(float(ni), cur, 0) if ni >= 0 else '(' + g.fmt_money(float(-ni), cur, 0) + ')'}\n"
                f"Total Assets: {g.fmt_money(assets, cur, 0)}\nTotal Liabilities: {g.fmt_money(float(liab), cur, 0)}\n"
                f"Owners' Equity: {g.fmt_money(assets - liab, cur, 0)}\n")
    else:
        left = [company, "BALANCE SHEET", f"As of {g.fmt_date(end, 1)}", f"Total Assets {m(assets)}",
                f"Total Liabilities {m(liab)}"]
        right = ["", "INCOME STATEMENT", f"({cur})", f"Net Sales {m(rev)}", f"Net Income {m(ni)}"]
        text = two_columns(left, right, 48) + "\n"
    return text, fields


# ----------------------------------------------------------------------------- tax return
def tax_return(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    name, year = g.person(), r.choice([2022, 2023, 2024, 2025])
    agi = g.money(18000, 240000, cents=False)
    fields = {"taxpayer_name": name, "tax_year": year, "adjusted_gross_income": agi}
    layout = r.randint(0, 2)
    if layout == 0:
        text = (f"Form 1040   U.S. Individual Income Tax Return   {year}\nDepartment of the Treasury - Internal Revenue Service\n"
                f"Filing Status: Single\nName: {name}\nSSN: XXX-XX-{r.randint(1000, 9999)}\n{g.addr()}\n\n"
                f"1a  Total wages from Form W-2 . . . . . .   1a   {agi * 0.95:,.0f}\n"
                f"9   Total income . . . . . . . . . . . . .   9    {agi:,.0f}\n"
                f"11  This is your adjusted gross income . . . 11   {agi:,.0f}\n"
                f"15  Taxable income . . . . . . . . . . . . . 15   {max(agi - 14600, 0):,.0f}\n")
    elif layout == 1:
        text = (f"TAX RETURN TRANSCRIPT\nTax Year: {year}\nTaxpayer Name: {name}\nForm: 1040\n\n"
                f"Wages, salaries, tips: {g.fmt_money(agi * 0.9)}\nAdjusted Gross Income: {g.fmt_money(agi)}\n"
                f"Taxable Income: {g.fmt_money(max(agi - 14600, 0))}\nTotal Tax: {g.fmt_money(agi * 0.12)}\n")
    else:
        left = ["INCOME TAX RETURN SUMMARY", f"Taxpayer: {name}", f"AGI: {g.fmt_money(agi, style=0)}"]
        right = [f"Tax Year {year}", "Prepared by: Smith & Co. CPAs", f"Refund: {g.fmt_money(g.money(0, 3000), style=0)}"]
        text = two_columns(left, right) + "\n"
    return text, fields


# ----------------------------------------------------------------------------- utility bill
def utility_bill(g: Gen) -> tuple[str, dict[str, Any]]:
    r = g.r
    util, name = r.choice(UTILITIES), g.person()
    due = g.money(25, 480)
    prev = g.money(25, 480)
    fields = {"customer_name": name, "amount_due": due}
    dd = g.fmt_date(g.day(date(2025, 1, 1), date(2026, 11, 30)))
    layout = r.randint(0, 2)
    if layout == 0:
        text = (f"{util}\nMONTHLY UTILITY BILL\nAccount Name: {name}\nService Address: {g.addr()}\n"
                f"Account Number: {r.randint(10000000, 99999999)}\nBilling Date: {dd}\n\nPrevious Balance: {g.fmt_money(prev)}\n"
                f"Payment Received - Thank You: {g.fmt_money(prev)}\nCurrent Charges: {g.fmt_money(due)}\n"
                f"Total Amount Due: {g.fmt_money(due)}\nDue Date: {dd}\n")
    elif layout == 1:
        left = [util.upper(), f"Customer: {name}", f"Usage: {r.randint(200, 1500)} kWh"]
        right = ["ELECTRIC SERVICE STATEMENT", f"Amount Due: {g.fmt_money(due, style=0)}", f"Please pay by {dd}"]
        text = two_columns(left, right) + "\n"
    else:
        text = (f"Dear {name},\nThank you for being a customer of {util}. Your bill for this period is ready.\n"
                f"Please pay {g.fmt_money(due)} by {dd}. Previous balance {g.fmt_money(prev)} was paid in full.\n")
    return text, fields


OTHER_TEXTS = [
    "RESIDENTIAL LEASE AGREEMENT\nThis lease is made between the Landlord and the Tenant for the premises at {addr}.\n"
    "Monthly rent: $1,450.00, due on the first day of each month. Security deposit: $1,450.00.\nTerm: 12 months.\n",
    "Sunrise Diner\nTable 12   Server: Kim\n2 x Pancakes      18.00\n1 x Coffee         3.50\nTip                4.00\nTOTAL             25.50\nThank you!\n",
    "Appointment reminder: your dental cleaning is scheduled for March 3 at 10:30 AM with Dr. Patel. Please arrive 10 minutes early.\n",
    "Meeting minutes - Neighborhood association\nAttendees discussed the park cleanup, the summer picnic budget and the new bike lanes on {street}.\n",
    "Recipe: Banana bread\nIngredients: 3 ripe bananas, 1/3 cup melted butter, 1 cup sugar, 1 egg, 1 tsp baking soda, 1.5 cups flour.\nBake at 350F for 60 minutes.\n",
    "Vehicle service invoice\nOil change and tire rotation performed. Mileage: 45,210. Next service due at 50,000 miles.\nParts and labor total: $89.95\n",
    "Dear parents, the school trip to the science museum will take place next Friday. Please sign and return the consent form.\n",
    "Warranty card: This product is covered by a limited warranty of two years from the date of purchase. Keep your receipt.\n",
]


def other(g: Gen) -> tuple[str, dict[str, Any]]:
    t = g.r.choice(OTHER_TEXTS)
    return t.format(addr=g.addr().replace("\n", ", "), street=g.r.choice(STREETS)), {}


GENERATORS: dict[str, Callable[[Gen], tuple[str, dict[str, Any]]]] = {
    "pay_stub": pay_stub, "bank_statement": bank_statement, "employment_letter": employment_letter,
    "id_document": id_document, "business_license": business_license, "financial_statement": financial_statement,
    "tax_return": tax_return, "utility_bill": utility_bill,
}

# OCR-like confusions that keep a human reader (and a tolerant extractor) able to read the text.
_OCR = {"o": "0", "l": "1", "e": "c", "S": "5", "O": "0", "I": "l", "m": "rn"}


def ocr_noise(text: str, r: random.Random, rate: float) -> str:
    out = []
    for ch in text:
        if ch in _OCR and r.random() < rate:
            out.append(_OCR[ch])
        else:
            out.append(ch)
    return "".join(out)


def noisy(text: str, fields: dict[str, Any], r: random.Random) -> tuple[str, list[str]]:
    """Apply one or two kinds of damage; gold values stay the truth the document meant."""
    kinds: list[str] = []
    roll = r.random()
    if roll < 0.2:
        # OCR confusions only on lines without a name value (names must still be exact evidence)
        protected = [str(v) for k, v in fields.items() if isinstance(v, str) and not k.endswith("date")]
        lines = []
        for line in text.split("\n"):
            lines.append(line if any(p in line for p in protected) else ocr_noise(line, r, 0.08))
        text, kinds = "\n".join(lines), ["ocr"]
    elif roll < 0.3:
        text, kinds = text.replace("  ", "\t"), ["tabs"]
    elif roll < 0.38:
        text, kinds = "   " + text.replace("\n", "\n  ").replace(": ", " :  "), ["spacing"]
    return text, kinds


def drop_field(text: str, fields: dict[str, Any], r: random.Random, doc_type: str) -> tuple[str, dict[str, Any], bool]:
    """Remove one labelled line (a missing field); the gold then says the field is absent."""
    lines = text.split("\n")
    candidates = []
    for i, line in enumerate(lines):
        for k, v in fields.items():
            if k.startswith("_") or k in ("monthly_gross_income",) or doc_type == "employment_letter":
                continue
            if isinstance(v, str) and v in line and ":" in line and line.count(":") == 1 and len(line) < 60:
                candidates.append((i, k))
    if not candidates:
        return text, fields, False
    i, k = r.choice(candidates)
    fields = dict(fields)
    fields.pop(k)
    del lines[i]
    return "\n".join(lines), fields, True


def load_core() -> list[dict[str, Any]]:
    path = HERE / "core_documents.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def split_of(doc_id: str) -> str:
    h = int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 50 else "dev" if h < 70 else "test"


def generate() -> list[dict[str, Any]]:
    r = random.Random(SEED)
    g = Gen(r)
    docs: list[dict[str, Any]] = []
    for doc_type, fn in GENERATORS.items():
        for i in range(PER_TYPE):
            text, fields = fn(g)
            noise: list[str] = []
            if r.random() < 0.1:
                text, fields, dropped = drop_field(text, fields, r, doc_type)
                if dropped:
                    noise.append("missing_field")
            text, kinds = noisy(text, fields, r)
            noise += kinds
            extra = {k[1:]: v for k, v in fields.items() if k.startswith("_")}
            fields = {k: v for k, v in fields.items() if not k.startswith("_")}
            docs.append({"id": f"{doc_type}-{i:03d}", "doc_type": doc_type, "text": text, "fields": fields,
                         "source": "generated", "noise": noise, **extra})
    for i in range(N_OTHER):
        text, _ = other(g)
        docs.append({"id": f"other-{i:03d}", "doc_type": "other", "text": text, "fields": {}, "source": "generated",
                     "noise": []})
    for d in load_core():
        d.setdefault("source", "hand")
        d.setdefault("noise", [])
        docs.append(d)
    return docs


def main() -> None:
    docs = generate()
    by_split: dict[str, list[dict[str, Any]]] = {"train": [], "dev": [], "test": []}
    for d in docs:
        by_split[split_of(d["id"])].append(d)
    for split, rows in by_split.items():
        with open(HERE / f"documents_{split}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(split, len(rows))


if __name__ == "__main__":
    main()
