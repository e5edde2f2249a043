"""Chinese risk signals with ConText cues, protected attributes, language routing, mixed text."""

from __future__ import annotations

import pytest

from creditflow.nlp import analyze, analyze_many
from creditflow.nlp.contract import PROTECTED_CATEGORIES
from creditflow.nlp.zh import is_chinese


def sig(text: str) -> list[tuple[str, str, str, str]]:
    a = analyze(text, "note")
    assert a.language == "zh"
    for s in a.risk_signals:  # evidence is always the exact text at its offsets
        assert text[s.evidence.start:s.evidence.end] == s.evidence.text
    return [(s.code, s.polarity, s.subject, s.evidence.text) for s in a.risk_signals]


@pytest.mark.parametrize("text,expected", [
    ("申请人上个月被裁员。", [("EMPLOYMENT_LOSS", "affirmed", "applicant", "被裁员")]),
    ("申请人没有逾期记录。", [("DELINQUENCY", "negated", "applicant", "逾期记录")]),
    ("经核查，未发现赌博相关交易。", [("GAMBLING", "negated", "applicant", "赌博")]),
    ("申请人否认使用过高利贷。", [("HIGH_COST_BORROWING", "negated", "applicant", "高利贷")]),
    ("客户无逾期。", [("DELINQUENCY", "negated", "applicant", "逾期")]),
    ("逾期记录：无", [("DELINQUENCY", "negated", "applicant", "逾期记录")]),
    ("如果工厂关闭，她可能会失业。", [("EMPLOYMENT_LOSS", "hypothetical", "applicant", "失业")]),
    ("假如利率上调，借款人可能出现逾期还款。", [("DELINQUENCY", "hypothetical", "applicant", "逾期还款")]),
    ("申请人曾经有网贷，目前已结清。", [("HIGH_COST_BORROWING", "historical", "applicant", "网贷")]),
    ("申请人2015年申请破产。", [("BANKRUPTCY", "historical", "applicant", "申请破产")]),
    ("其丈夫上个月被裁员。", [("EMPLOYMENT_LOSS", "affirmed", "third_party", "被裁员")]),
    ("其配偶有赌债。", [("GAMBLING", "affirmed", "third_party", "赌债")]),
    ("其父亲曾经破产。", [("BANKRUPTCY", "historical", "third_party", "破产")]),
    ("其丈夫被裁员，申请人本人有两笔网贷。", [("EMPLOYMENT_LOSS", "affirmed", "third_party", "被裁员"),
                                   ("HIGH_COST_BORROWING", "affirmed", "applicant", "网贷")]),
    ("申请人未能按时还款。", [("DELINQUENCY", "affirmed", "applicant", "未能按时还款")]),
    ("电话回访时无法核实其工作单位。", [("UNVERIFIED_EMPLOYMENT", "affirmed", "applicant", "无法核实其工作单位")]),
    ("经销商失去了主要客户，应收账款逾期。", [("BUSINESS_DISTRESS", "affirmed", "applicant", "失去了主要客户"),
                                 ("BUSINESS_DISTRESS", "affirmed", "applicant", "应收账款逾期")]),
])
def test_cues(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert sig(text) == expected


@pytest.mark.parametrize("text", [
    "申请人是一名破产律师，收入稳定。",
    "客户在银行担任催收专员，收入稳定。",
    "他在当铺工作，担任鉴定师。",
    "申请人家住无锡市，未来打算开店。",  # 无 / 未 inside words are not negations, and no target at all
])
def test_vocabulary_traps_raise_no_signal(text: str) -> None:
    assert sig(text) == []


def test_single_character_cue_needs_a_word_boundary() -> None:
    # 无锡 is a city: "无" there must not negate the overdraft
    assert sig("无锡分行反映客户透支。") == [("OVERDRAFT", "affirmed", "applicant", "透支")]


def test_negation_scope_ends_at_the_clause_and_at_but() -> None:
    assert sig("没有逾期记录，但有两笔网贷。") == [("DELINQUENCY", "negated", "applicant", "逾期记录"),
                                          ("HIGH_COST_BORROWING", "affirmed", "applicant", "网贷")]


@pytest.mark.parametrize("text,category,word", [
    ("申请人今年35岁。", "age", "35岁"), ("申请人为女性。", "sex", "女性"), ("申请人离异。", "marital_status", "离异"),
    ("申请人信仰佛教。", "religion", "信仰"), ("申请人为回族。", "race_ethnicity", "回族"),
    ("申请人为外籍人士。", "national_origin", "外籍"), ("申请人有残疾。", "disability_health", "残疾"),
    ("申请人目前怀孕。", "pregnancy", "怀孕"), ("其丈夫在外地工作。", "marital_status", "丈夫"),
])
def test_protected_attributes(text: str, category: str, word: str) -> None:
    prot = [(p.category, text[p.start:p.end]) for p in analyze(text, "note").protected_attributes]
    assert (category, word) in prot


def test_every_protected_category_has_chinese_terms() -> None:
    from creditflow.nlp.zh.data import cached_data

    assert set(cached_data().protected) == set(PROTECTED_CATEGORIES)


def test_routing_by_cjk_share() -> None:
    assert is_chinese("申请人没有逾期记录。")
    assert is_chinese("Applicant said 她没有逾期，收入稳定。")
    assert not is_chinese("No late payments in the last 24 months.")
    bilingual = ("营业执照 BUSINESS LICENSE\n统一社会信用代码 USCC: 9140851592UJG0B9MK\n名称 Company Name: Hangzhou "
                 "Lvyuan Trading Co., Ltd.\n法定代表人 Legal Representative: Chen Jie\n")
    assert not is_chinese(bilingual)  # English form with Chinese labels stays on the English pipeline


def test_mixed_text_gets_both_languages_signals_in_input_order() -> None:
    zh_first = "申请人没有逾期记录，但有两笔网贷，收入主要来自工资和奖金。She took a payday loan."
    en_first = "The applicant missed two card payments in May. 其丈夫上个月被裁员。"
    a, b, c = analyze_many([zh_first, en_first, "No late payments."], "note")
    assert a.language == "zh" and b.language == "en" and c.language == "en"
    got_a = {(s.code, s.polarity, s.evidence.text) for s in a.risk_signals}
    assert ("HIGH_COST_BORROWING", "affirmed", "网贷") in got_a and ("DELINQUENCY", "negated", "逾期记录") in got_a
    assert any(s.code == "HIGH_COST_BORROWING" and "payday" in s.evidence.text for s in a.risk_signals)
    got_b = {(s.code, s.subject) for s in b.risk_signals}
    assert ("DELINQUENCY", "applicant") in got_b and ("EMPLOYMENT_LOSS", "third_party") in got_b
    for text, an in ((zh_first, a), (en_first, b)):
        for s in an.risk_signals:
            assert text[s.evidence.start:s.evidence.end] == s.evidence.text
    assert [s.code for s in c.risk_signals] == ["DELINQUENCY"]
