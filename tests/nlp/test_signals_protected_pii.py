"""Protected-attribute mentions and PII spans, with exact offsets."""

from __future__ import annotations

import pytest

from creditflow.nlp.signals import find_pii, find_protected
from creditflow.nlp.signals.pii import cn_id_ok, iban_ok, luhn_ok


def prot(text: str) -> list[tuple[str, str]]:
    return [(p.category, text[p.start:p.end]) for p in find_protected(text)]


def pii(text: str) -> list[tuple[str, str]]:
    return [(p.type, text[p.start:p.end]) for p in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("The 42-year-old applicant works nights.", "age", "42-year-old"),
        ("She is pregnant and due in May.", "pregnancy", "pregnant"),
        ("Applicant is divorced.", "marital_status", "divorced"),
        ("A widow who lives alone.", "marital_status", "widow"),
        ("He is Muslim.", "religion", "Muslim"),
        ("Customer is Hispanic.", "race_ethnicity", "Hispanic"),
        ("An immigrant from Mexico.", "national_origin", "immigrant"),
        ("An immigrant from Mexico.", "national_origin", "from Mexico"),
        ("Applicant is a wheelchair user.", "disability_health", "wheelchair user"),
        ("She has diabetes.", "disability_health", "diabetes"),
        ("On maternity leave until June.", "pregnancy", "maternity leave"),
        ("Applicant is a Black woman who owns a salon.", "race_ethnicity", "Black woman"),
        ("The female applicant owns two stores.", "sex", "female"),
    ],
)
def test_protected_mentions(text: str, category: str, words: str) -> None:
    assert (category, words) in prot(text)


def test_pronouns_are_not_sex_mentions() -> None:
    assert prot("She said he paid her rent and his bills on time.") == []


def test_financial_black_is_not_race() -> None:
    assert prot("The business has been in the black for five years.") == []


def test_offsets_are_exact() -> None:
    text = "Note: the 67-year-old retiree is Catholic."
    found = find_protected(text)
    assert [(p.category, p.start, p.end) for p in found] == [("age", 10, 21), ("religion", 33, 41)]


# ------------------------------------------------------------------ PII
def test_pii_kinds_and_offsets() -> None:
    text = ("Name: Maria Lopez\nSSN 123-45-6789, phone (415) 555-0132, maria.lopez@example.com\n"
            "Address: 12 Oak Street, Springfield, IL 62701\nDOB: 03/04/1980\n"
            "IBAN GB82 WEST 1234 5698 7654 32, card 4111 1111 1111 1111")
    found = pii(text)
    assert ("PERSON", "Maria Lopez") in found
    assert ("ID_NUMBER", "123-45-6789") in found
    assert ("PHONE", "(415) 555-0132") in found
    assert ("EMAIL", "maria.lopez@example.com") in found
    assert ("ADDRESS", "12 Oak Street, Springfield, IL 62701") in found
    assert ("DATE_OF_BIRTH", "03/04/1980") in found
    assert ("ACCOUNT_NUMBER", "GB82 WEST 1234 5698 7654 32") in found
    assert ("ACCOUNT_NUMBER", "4111 1111 1111 1111") in found


def test_titled_names_and_cue_names() -> None:
    assert ("PERSON", "John Smith") in pii("Spoke with Mr. John Smith about the loan.")
    assert ("PERSON", "Jane Doe") in pii("Per applicant Jane Doe, income is stable.")


def test_job_titles_are_not_people() -> None:
    assert pii("The Credit Officer and the Branch Manager reviewed the file.") == []


def test_chinese_id_number_with_checksum() -> None:
    assert cn_id_ok("11010519491231002X")
    assert not cn_id_ok("110105194912310021")
    assert pii("身份证号码: 11010519491231002X") == [("ID_NUMBER", "11010519491231002X")]


def test_checksums_reject_random_numbers() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    assert [t for t, _ in pii("Order ref 1234 5678 9012 3456 shipped.")] == []


def test_account_number_with_cue_and_masked_number() -> None:
    assert ("ACCOUNT_NUMBER", "****4821") in pii("Account no. ****4821 was overdrawn.")
    assert ("ACCOUNT_NUMBER", "00123456789") in pii("Checking account number: 00123456789")


def test_passport_and_dob_words() -> None:
    found = pii("Passport No: X1234567. Born on March 5, 1978.")
    assert ("ID_NUMBER", "X1234567") in found
    assert ("DATE_OF_BIRTH", "March 5, 1978") in found


def test_payment_due_date_is_not_pregnancy() -> None:
    assert prot("Total Amount Due: 428.54 USD\nDue Date: 8 September 2025\n") == []
    assert ("pregnancy", "her due date") in prot("She is expecting; her due date is in May.")
