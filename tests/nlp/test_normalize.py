"""Money, date and category readers: every surface format the documents use."""

import pytest

from creditflow.nlp.normalize import (
    monthly_from, parse_date, parse_employment_type, parse_frequency, parse_int, parse_money,
)


@pytest.mark.parametrize("text,value,currency", [
    ("$1,234.56", 1234.56, "USD"),
    ("1,234.56 USD", 1234.56, "USD"),
    ("USD 1234.56", 1234.56, "USD"),
    ("1234.56", 1234.56, None),
    ("$ 12,000", 12000.0, "USD"),
    ("RMB 5,000,000", 5_000_000.0, "CNY"),
    ("¥2,000.50", 2000.5, "CNY"),
    ("5,000,000 yuan", 5_000_000.0, "CNY"),
    ("RMB 5 million", 5_000_000.0, "CNY"),
    ("1.234,56 EUR", 1234.56, "EUR"),
    ("(1,234.00)", -1234.0, None),
    ("-$12.50", -12.5, "USD"),
    ("2,15O.OO", 2150.0, None),  # OCR: letter O for zero
])
def test_money_formats(text, value, currency):
    assert parse_money(text) == (value, currency)


def test_money_default_currency_and_garbage():
    assert parse_money("1,000.00", "CNY") == (1000.0, "CNY")
    assert parse_money("no amount here") is None
    assert parse_money("") is None


@pytest.mark.parametrize("text,iso", [
    ("03/15/2026", "2026-03-15"),
    ("March 15, 2026", "2026-03-15"),
    ("15 Mar 2026", "2026-03-15"),
    ("2026-03-15", "2026-03-15"),
    ("Mar. 15, 2026", "2026-03-15"),
    ("15 March 2026", "2026-03-15"),
    ("Sept. 3, 2024", "2024-09-03"),
    ("15/03/2026", "2026-03-15"),  # day first when the first number cannot be a month
    ("3rd September 2021", "2021-09-03"),
    ("O3/15/2O26", "2026-03-15"),  # OCR
    ("Junc 30, 2025", "2025-06-30"),  # OCR slip in the month name
    ("2026年3月15日", "2026-03-15"),
])
def test_date_formats(text, iso):
    assert parse_date(text) == iso


def test_impossible_dates_are_none():
    assert parse_date("Feb 30, 2024") is None
    assert parse_date("13/13/2024") is None
    assert parse_date("nothing") is None


@pytest.mark.parametrize("text,freq", [
    ("Bi-Weekly", "biweekly"), ("every two weeks", "biweekly"), ("Weekly", "weekly"),
    ("Semi-Monthly", "semimonthly"), ("twice a month", "semimonthly"), ("MONTHLY", "monthly"),
    ("Semirnonthly", "semimonthly"),
])
def test_frequency(text, freq):
    assert parse_frequency(text) == freq


@pytest.mark.parametrize("text,etype", [
    ("full-time, permanent", "full_time"), ("Part Time", "part_time"), ("fixed-term contract", "contract"),
    ("Contractor", "contract"),
])
def test_employment_type(text, etype):
    assert parse_employment_type(text) == etype


def test_monthly_income_by_frequency():
    assert monthly_from(1000, "weekly") == pytest.approx(4333.33)
    assert monthly_from(1000, "biweekly") == pytest.approx(2166.67)
    assert monthly_from(1000, "semimonthly") == 2000.0
    assert monthly_from(1000, "monthly") == 1000.0


def test_parse_int():
    assert parse_int("3") == 3
    assert parse_int("none") == 0
    assert parse_int("x") is None
