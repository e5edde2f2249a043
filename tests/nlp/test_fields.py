"""Field extraction per document type: every field, its normalised value and its evidence offsets.

The texts here are written by hand for the tests (not taken from the evaluation set).
"""

from __future__ import annotations

import pytest

from creditflow.nlp.contract import FIELDS_BY_DOC_TYPE
from creditflow.nlp.fields import FieldExtractor
from creditflow.nlp.normalize import parse_date, parse_employment_type, parse_frequency, parse_money
from creditflow.nlp.resources import nlp_dir
from nlp_doc_cases import CASES


@pytest.fixture(scope="module")
def extractor() -> FieldExtractor:
    return FieldExtractor.from_path(nlp_dir() / "fields.yml")


def test_cases_cover_every_field():
    for doc_type, fields in FIELDS_BY_DOC_TYPE.items():
        assert set(CASES[doc_type][1]) == set(fields), doc_type


@pytest.mark.parametrize("doc_type,field", [(t, f) for t, fs in FIELDS_BY_DOC_TYPE.items() for f in fs])
def test_field(extractor, doc_type, field):
    text, gold = CASES[doc_type]
    got = extractor.extract(text, doc_type)
    assert field in got, f"{field} not extracted"
    fv = got[field]
    expected = gold[field]
    if isinstance(expected, float):
        assert fv.value == pytest.approx(expected, abs=0.01)
    else:
        assert fv.value == expected
    evidence = text[fv.start:fv.end]
    assert 0 <= fv.start < fv.end <= len(text)
    assert 0 < fv.confidence <= 1
    # the evidence is the text the value was read from
    if field == "monthly_gross_income":
        return
    if isinstance(expected, float):
        assert parse_money(evidence)[0] == pytest.approx(abs(expected), abs=0.01) or \
            parse_money(evidence)[0] == pytest.approx(expected, abs=0.01)
    elif field.endswith("date") or field.startswith("period_") or field in ("date_of_birth",):
        assert parse_date(evidence) == expected
    elif field in ("pay_frequency",):
        assert parse_frequency(evidence) == expected
    elif field in ("employment_type",):
        assert parse_employment_type(evidence) == expected
    else:
        assert evidence.rstrip(".").lower() == str(expected).rstrip(".").lower()

def test_money_fields_carry_currency(extractor):
    got = extractor.extract(CASES["business_license"][0], "business_license")
    assert got["registered_capital"].currency == "CNY"
    got = extractor.extract(CASES["pay_stub"][0], "pay_stub")
    assert got["gross_pay"].currency == "USD"


def test_monthly_income_points_at_gross_pay(extractor):
    got = extractor.extract(CASES["pay_stub"][0], "pay_stub")
    assert (got["monthly_gross_income"].start, got["monthly_gross_income"].end) == \
        (got["gross_pay"].start, got["gross_pay"].end)


def test_ytd_label_does_not_steal_gross_pay(extractor):
    text = "YTD Gross Pay: $9,000.00\nGross Pay: $1,500.00\nNet Pay: $1,200.00\nPay Frequency: Monthly\n"
    got = extractor.extract(text, "pay_stub")
    assert got["gross_pay"].value == 1500.0
    assert got["ytd_gross"].value == 9000.0


def test_table_row_gives_current_and_ytd(extractor):
    text = ("ACME CORP.\nDescription        Current        YTD\nGross Pay          3,412.50       23,887.50\n"
            "Net Pay            2,519.33       17,635.31\n")
    got = extractor.extract(text, "pay_stub")
    assert got["gross_pay"].value == 3412.5
    assert got["ytd_gross"].value == 23887.5
    assert got["net_pay"].value == 2519.33


def test_two_columns(extractor):
    text = ("Customer: Ana Lima                          Amount Due: $88.20\n"
            "Usage: 420 kWh                              Please pay by 05/01/2026\n")
    got = extractor.extract(text, "utility_bill")
    assert got["customer_name"].value == "Ana Lima"
    assert got["amount_due"].value == 88.2


def test_missing_field_is_absent_not_guessed(extractor):
    text = "Northern Utilities\nAccount Name: Bo Chen\nPrevious Balance: $12.00\n"
    got = extractor.extract(text, "utility_bill")
    assert "amount_due" not in got
    assert got["customer_name"].value == "Bo Chen"


def test_ocr_confusions_in_labels_and_numbers(extractor):
    text = "Gr0ss Pay: $1,2O0.00\nNet Pav: x\nPay Frcquency: Weekly\n"
    got = extractor.extract(text, "pay_stub")
    assert got["gross_pay"].value == 1200.0
    assert got["gross_pay"].confidence < 0.95  # read through an OCR repair
    assert got["pay_frequency"].value == "weekly"


def test_unknown_doc_type_and_empty_text(extractor):
    assert extractor.extract("anything", "other") == {}
    assert extractor.extract("", "pay_stub") == {}
