"""Chinese documents through the public `analyze` (language routing included): every doc type,
its contract fields with exact offsets, money in CNY, the credit-code and resident-ID checks."""

from __future__ import annotations

import pytest

from creditflow.demo_cases_extra import zh_bank_statement, zh_id_card, zh_pay_stub
from creditflow.nlp import analyze
from creditflow.nlp.contract import FIELDS_BY_DOC_TYPE
from creditflow.nlp.uscc import make_uscc
from creditflow.nlp.zh.signals import is_valid_resident_id, make_resident_id

CODE = make_uscc("91310000MA1FL4X2A")
BAD_CODE = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
ID = make_resident_id("11010119850412001")

DOCS = {
    "business_license": (
        f"营业执照\n（副本）\n统一社会信用代码：{CODE}\n名    称：上海华联汽车销售有限公司\n类    型：有限责任公司\n"
        "法定代表人：张伟\n注册资本：人民币伍佰万元整\n成立日期：2016年3月15日\n营业期限：2016年3月15日至长期\n",
        {"company_name": "上海华联汽车销售有限公司", "registration_number": CODE, "legal_representative": "张伟",
         "established_date": "2016-03-15", "registered_capital": 5_000_000.0}),
    "pay_stub": (
        "杭州润泽建材有限公司\n2026年2月工资条\n员工姓名：李娜\n发放日期：2026年2月28日\n发薪周期：双周\n"
        "应发工资：¥6,000.00\n实发工资：5,100.50元\n本年累计应发：12,000.00元\n",
        {"employee_name": "李娜", "employer_name": "杭州润泽建材有限公司", "pay_date": "2026-02-28",
         "pay_frequency": "biweekly", "gross_pay": 6000.0, "net_pay": 5100.5, "ytd_gross": 12000.0,
         "monthly_gross_income": 13000.0}),
    "bank_statement": (
        "中国建设银行 个人账户对账单\n户名：王芳    账号：6222 0212 3456 7890 123\n"
        "对账期间：2026年2月1日至2026年2月28日\n期初余额：¥8,200.00\n收入合计：15,600.00元\n"
        "支出合计：12,300.50元\n期末余额：¥11,499.50\n余额不足扣款失败：2笔\n",
        {"account_holder": "王芳", "bank_name": "中国建设银行", "period_start": "2026-02-01", "period_end": "2026-02-28",
         "opening_balance": 8200.0, "closing_balance": 11499.5, "total_deposits": 15600.0,
         "total_withdrawals": 12300.5, "nsf_count": 2}),
    "employment_letter": (
        "收入证明\n\n兹证明赵敏同志（身份证号：" + ID + "）自2018年3月1日起在我单位杭州润泽建材有限公司工作，"
        "现任销售经理职务，为正式员工，年收入为人民币壹拾贰万元整。\n\n特此证明。\n",
        {"employee_name": "赵敏", "employer_name": "杭州润泽建材有限公司", "job_title": "销售经理",
         "start_date": "2018-03-01", "annual_salary": 120_000.0}),
    "id_document": (
        f"中华人民共和国\n居民身份证\n姓名 刘洋\n性别 男  民族 汉\n出生 1985年4月12日\n住址 北京市东城区建国路8号\n"
        f"公民身份号码 {ID}\n签发机关 北京市公安局\n有效期限 2016.03.01-2036.03.01\n",
        {"full_name": "刘洋", "date_of_birth": "1985-04-12", "id_number": ID, "expiry_date": "2036-03-01"}),
    "financial_statement": (
        "苏州恒通物流有限公司\n资产负债表及利润表\n截止日期 2025年12月31日    单位：万元\n项目    金额\n"
        "营业总收入    1,250.00\n净利润    86.50\n资产总计    2,000.00\n负债合计    1,100.00\n",
        {"company_name": "苏州恒通物流有限公司", "period_end": "2025-12-31", "revenue": 12_500_000.0,
         "net_income": 865_000.0, "total_assets": 20_000_000.0, "total_liabilities": 11_000_000.0}),
    "tax_return": (
        "个人所得税年度自行纳税申报表（A表）\n税款所属期：2025年1月1日至2025年12月31日\n纳税人姓名：陈静\n"
        "纳税人识别号：" + ID + "\n综合所得收入额：186,000.00\n应纳税额：5,080.00\n",
        {"taxpayer_name": "陈静", "tax_year": 2025, "adjusted_gross_income": 186_000.0}),
    "utility_bill": (
        "国网杭州市电力公司\n电费缴费通知单\n户名：周杰\n户号：3301234567\n用电量：320千瓦时\n本期应缴金额：¥198.40\n",
        {"customer_name": "周杰", "amount_due": 198.4}),
}


@pytest.mark.parametrize("doc_type", sorted(DOCS))
def test_each_chinese_doc_type_and_its_fields(doc_type: str) -> None:
    text, gold = DOCS[doc_type]
    a = analyze(text)
    assert a.language == "zh" and a.kind == "document" and a.doc_type == doc_type
    assert set(a.fields) <= set(FIELDS_BY_DOC_TYPE[doc_type])
    for name, value in gold.items():
        got = a.fields[name]
        assert got.value == value, (name, got)
        if name != "monthly_gross_income":  # derived: points at gross pay
            assert got.end > got.start and text[got.start:got.end]
        if isinstance(value, float):
            assert got.currency == "CNY"


def test_field_offsets_point_at_the_written_value() -> None:
    text, _ = DOCS["business_license"]
    f = analyze(text).fields
    assert text[f["registered_capital"].start:f["registered_capital"].end] == "人民币伍佰万元整"
    assert text[f["established_date"].start:f["established_date"].end] == "2016年3月15日"
    assert text[f["company_name"].start:f["company_name"].end] == "上海华联汽车销售有限公司"


def test_invalid_credit_code_is_a_fraud_indicator_with_evidence() -> None:
    text = DOCS["business_license"][0].replace(CODE, BAD_CODE)
    a = analyze(text)
    fraud = [s for s in a.risk_signals if s.code == "FRAUD_INDICATOR"]
    assert len(fraud) == 1 and fraud[0].evidence.text == BAD_CODE
    assert text[fraud[0].evidence.start:fraud[0].evidence.end] == BAD_CODE
    assert fraud[0].counts_against_applicant
    assert not [s for s in analyze(DOCS["business_license"][0]).risk_signals if s.code == "FRAUD_INDICATOR"]


def test_resident_id_checksum_and_pii() -> None:
    assert is_valid_resident_id(ID) and not is_valid_resident_id(ID[:-1] + ("0" if ID[-1] != "0" else "1"))
    assert not is_valid_resident_id("110101198502300011")  # 30 February
    note = f"客户身份证号{ID}，手机13812345678，邮箱wang@example.cn。"
    pii = {(p.type, note[p.start:p.end]) for p in analyze(note, "note").pii}
    assert ("ID_NUMBER", ID) in pii and ("PHONE", "13812345678") in pii and ("EMAIL", "wang@example.cn") in pii
    text, _ = DOCS["id_document"]
    a = analyze(text)
    assert {"ID_NUMBER", "PERSON", "DATE_OF_BIRTH"} <= {p.type for p in a.pii}
    # 民族 / 性别 on an ID card are protected-attribute mentions the officer must not weigh
    assert {"race_ethnicity", "sex"} <= {p.category for p in a.protected_attributes}


def test_nsf_zero_on_a_statement_is_not_an_overdraft() -> None:
    zero = analyze(zh_bank_statement(nsf=0))
    assert zero.risk_signals and all(s.polarity == "negated" for s in zero.risk_signals)
    two = analyze(zh_bank_statement(nsf=2))
    assert any(s.code == "OVERDRAFT" and s.counts_against_applicant for s in two.risk_signals)


def test_demo_documents_are_read_and_auto_kind_tells_documents_from_notes() -> None:
    assert analyze(zh_id_card()).doc_type == "id_document"
    assert analyze(zh_pay_stub()).fields["gross_pay"].value == 12000.0
    note = analyze("申请人提供的工资条显示月收入一万二千元，单位已确认在职。")
    assert note.kind == "note" and note.doc_type is None and note.language == "zh"


def test_unrelated_chinese_document_is_other() -> None:
    a = analyze("会议纪要\n时间：2025年5月6日\n参会人员：销售部全体\n议题：第二季度销售目标\n", "document")
    assert a.doc_type == "other" and a.fields == {}
