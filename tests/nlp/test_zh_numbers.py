"""Chinese amount and date normalisation (creditflow.nlp.zh.numbers)."""

from __future__ import annotations

import pytest

from creditflow.nlp.zh.numbers import cn_int, find_dates, find_money, parse_amount, parse_date


@pytest.mark.parametrize("text,value", [
    ("¥12,345.67", 12345.67), ("￥12,345.67", 12345.67), ("12,345.67元", 12345.67), ("人民币12,345.67元", 12345.67),
    ("5万元", 50000.0), ("1.5万元", 15000.0), ("2亿元", 200_000_000.0), ("壹万贰仟元", 12000.0),
    ("人民币壹拾贰万叁仟肆佰伍拾陆元柒角捌分", 123456.78), ("伍佰万元整", 5_000_000.0), ("两万元", 20000.0),
    ("三千五百元", 3500.0), ("RMB 100,000,000", 100_000_000.0), ("１２，３４５．６７元", 12345.67),
])
def test_amount_forms(text: str, value: float) -> None:
    assert parse_amount(text) == value


def test_table_unit_scales_bare_numbers_only() -> None:
    assert parse_amount("1,234.50", scale=10_000) == 12_345_000.0
    assert parse_amount("1,234.50元", scale=10_000) == 1234.5  # an explicit unit wins


def test_chinese_numerals() -> None:
    assert (cn_int("二〇二六"), cn_int("十五"), cn_int("三十一"), cn_int("壹万贰仟")) == (2026, 15, 31, 12000)
    assert cn_int("abc") is None


@pytest.mark.parametrize("text,iso", [
    ("2026年3月15日", "2026-03-15"), ("2026 年 3 月 5 日", "2026-03-05"), ("二〇二六年三月十五日", "2026-03-15"),
    ("2026-03-15", "2026-03-15"), ("2026/03/15", "2026-03-15"), ("2026.3.15", "2026-03-15"),
])
def test_date_forms(text: str, iso: str) -> None:
    assert parse_date(text) == iso


def test_impossible_date_is_none() -> None:
    assert parse_date("2026年2月30日") is None


def test_find_money_offsets_and_currency() -> None:
    text = "应发工资：¥12,345.67，另有5万元补贴，注册资本伍佰万元整，编号12345，另付$300"
    found = find_money(text)
    assert [text[s:e] for s, e, _, _ in found] == ["¥12,345.67", "5万元", "伍佰万元整", "$300"]
    assert [c for *_, c in found] == ["CNY", "CNY", "CNY", "USD"]
    d = find_dates("签发于2026年3月15日。")
    assert d == [(3, 13, "2026-03-15")]
