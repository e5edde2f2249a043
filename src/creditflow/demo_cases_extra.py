"""Dealer and Chinese-language demo / test cases (issue 9), in the shape of `demo.demo_cases()`.

Three applicants: a dealer with English documents and a valid unified social credit code; the
same dealer whose licence carries a code with a wrong check character (a forgery or a typo the
NLP reports as FRAUD_INDICATOR); and a consumer applying in Chinese, in CNY, with 身份证, 工资条,
银行流水 and a Chinese officer note. Dates are relative to today so the statement-age checks pass.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from creditflow.nlp.uscc import make_uscc
from creditflow.nlp.zh.signals import make_resident_id

DEALER_CODE = make_uscc("91330106MA2CFL7Q4")
#: same code with a wrong check character
BAD_DEALER_CODE = DEALER_CODE[:-1] + ("0" if DEALER_CODE[-1] != "0" else "1")
DEALER_NAME = "Hangzhou Lvyuan Auto Trading Co., Ltd."
DEALER_REP = "Chen Jie"
ZH_NAME = "王芳"
ZH_DOB = date(1988, 6, 12)
ZH_ID = make_resident_id(f"330106{ZH_DOB:%Y%m%d}128")
ZH_NOTE = "申请人没有逾期记录，其丈夫上个月被裁员，目前家庭收入主要来自申请人本人。"


def _last_month() -> tuple[date, date]:
    end = date.today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def business_license(code: str = DEALER_CODE, company: str = DEALER_NAME, rep: str = DEALER_REP) -> str:
    return (f"BUSINESS LICENSE\n营业执照\nUnified Social Credit Code: {code}\nName: {company}\n"
            f"Type: Limited Liability Company\nLegal Representative: {rep}\nRegistered Capital: RMB 5,000,000\n"
            f"Date of Establishment: 2016-03-15\nBusiness Term: Long-term\n"
            f"Domicile: No. 88 Industrial Road, Hangzhou\nScope of Business: sale of automobiles and parts.\n"
            f"Registration Authority: Administration for Market Regulation\n")


def financial_statement(company: str = DEALER_NAME, revenue: float = 6_000_000, net_income: float = 480_000,
                        assets: float = 4_000_000, liabilities: float = 1_600_000) -> str:
    year = date.today().year - 1
    return (f"Company: {company}\nStatement of Financial Position and Results\nPeriod End: {year}-12-31\n\n"
            f"Total Revenue: CNY {revenue:,.0f}\nOperating Expenses: CNY {revenue * 0.9:,.0f}\n"
            f"Net Profit: CNY {net_income:,.0f}\nTotal Assets: CNY {assets:,.0f}\n"
            f"Total Liabilities: CNY {liabilities:,.0f}\n")


def company_bank_statement(company: str = DEALER_NAME, opening: float = 820_000, deposits: float = 520_000,
                           withdrawals: float = 470_000, nsf: int = 0) -> str:
    start, end = _last_month()
    return (f"CHINA MERCHANTS BANK\nACCOUNT STATEMENT\n\nBank: China Merchants Bank\nAccount Holder: {company}\n"
            f"Statement Period: {start:%m/%d/%Y} to {end:%m/%d/%Y}\n"
            f"Opening Balance: CNY {opening:,.2f}\nTotal Deposits: CNY {deposits:,.2f}\n"
            f"Total Withdrawals: CNY {withdrawals:,.2f}\nClosing Balance: CNY {opening + deposits - withdrawals:,.2f}\n"
            f"Returned Items (NSF): {nsf}\n")


def dealer_applicant(code: str = DEALER_CODE, **over: Any) -> dict[str, Any]:
    base = {"company_name": DEALER_NAME, "registration_number": code, "legal_representative": DEALER_REP,
            "email": "finance@lvyuan-auto.example", "phone": "+86 571 8888 0000",
            "address": "No. 88 Industrial Road, Hangzhou", "years_in_business": 9, "annual_revenue": 6_000_000,
            "anchor_partner": "Midea Group", "monthly_debt_payments": 20_000}
    base.update(over)
    return base


def zh_id_card(name: str = ZH_NAME, dob: date = ZH_DOB, number: str = ZH_ID) -> str:
    return (f"中华人民共和国\n居民身份证\n姓名 {name}\n性别 女  民族 汉\n出生 {dob.year}年{dob.month}月{dob.day}日\n"
            f"住址 杭州市西湖区文三路90号\n公民身份号码 {number}\n签发机关 杭州市公安局西湖分局\n"
            f"有效期限 2019.05.20-2039.05.20\n")


def zh_pay_stub(name: str = ZH_NAME, employer: str = "杭州润泽建材有限公司", gross: float = 12_000.0,
                net: float = 9_860.0) -> str:
    _, end = _last_month()
    return (f"{employer}\n{end.year}年{end.month}月工资条\n\n员工姓名：{name}\n发放日期：{end.year}年{end.month}月{end.day}日\n"
            f"发薪周期：月\n应发工资：¥{gross:,.2f}\n个人所得税：{gross * 0.03:,.2f}\n实发工资：{net:,.2f}元\n"
            f"本年累计应发：{gross * 6:,.2f}元\n")


def zh_bank_statement(name: str = ZH_NAME, opening: float = 8_200.0, deposits: float = 12_000.0,
                      withdrawals: float = 9_300.5, nsf: int = 0) -> str:
    start, end = _last_month()
    return (f"中国工商银行 个人账户对账单（银行流水）\n户名：{name}    账号：6222 0212 3456 7890 123\n"
            f"对账期间：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日\n"
            f"期初余额：¥{opening:,.2f}\n收入合计：{deposits:,.2f}元\n支出合计：{withdrawals:,.2f}元\n"
            f"期末余额：¥{opening + deposits - withdrawals:,.2f}\n余额不足扣款失败：{nsf}笔\n")


def zh_consumer(**over: Any) -> dict[str, Any]:
    base = {"full_name": ZH_NAME, "date_of_birth": ZH_DOB.isoformat(), "email": "wangfang@example.cn",
            "phone": "+86 138 1234 5678", "address": "杭州市西湖区文三路90号", "employment_status": "employed",
            "employer_name": "杭州润泽建材有限公司", "employment_years": 6, "monthly_income": 12_000,
            "monthly_debt_payments": 600, "housing": "own", "checking_balance": 10_900.0, "savings_balance": 80_000.0,
            "credit_history": "all_paid", "existing_credits": 1, "dependents": 1}
    base.update(over)
    return base


def extra_cases() -> list[dict[str, Any]]:
    """(label, expect, body, documents); `expect` is the stage the workflow reaches on its own."""
    return [
        {"label": "dealer (valid licence)", "expect": "in_review",
         "body": {"product": "dealer_working_capital", "applicant": dealer_applicant(), "requested_amount": 50_000,
                  "term_months": 12, "purpose": "working capital for vehicle inventory", "currency": "CNY",
                  "notes": ["Dealer for Midea Group since 2016; no late payments to the anchor."]},
         "documents": [business_license(), financial_statement(), company_bank_statement()]},
        {"label": "dealer (invalid credit code)", "expect": "declined",
         "body": {"product": "dealer_working_capital", "applicant": dealer_applicant(BAD_DEALER_CODE),
                  "requested_amount": 50_000, "term_months": 12, "purpose": "working capital", "currency": "CNY",
                  "notes": []},
         "documents": [business_license(BAD_DEALER_CODE), financial_statement(), company_bank_statement()]},
        {"label": "Chinese consumer (CNY)", "expect": "in_review",
         "body": {"product": "consumer_installment", "applicant": zh_consumer(), "requested_amount": 8_000,
                  "term_months": 12, "purpose": "家电分期", "currency": "CNY", "notes": [ZH_NOTE]},
         "documents": [zh_id_card(), zh_pay_stub(), zh_bank_statement()]},
    ]
