"""PII patterns whose every match holds a digit are skipped on texts without one; results must not change."""

import dataclasses

from creditflow.nlp.signals.pii import PiiDetector, needs_digit, pii_detector


def test_needs_digit_reads_patterns_conservatively() -> None:
    assert needs_digit(r"\d{3}-\d{2}")
    assert needs_digit(r"(?:phone|tel)\s*(?P<v>\+?[\d(][\d ().-]{6,18}\d)")
    assert needs_digit(r"[0-9]+")
    assert not needs_digit(r"\d?")  # may match without a digit
    assert not needs_digit(r"a|\d")  # one branch has none
    assert not needs_digit(r"[^\d]")
    assert not needs_digit(r"[0-z]")
    assert not needs_digit(r"(?=\d)x")  # lookarounds make no claim


def test_shipped_patterns_skip_only_digit_patterns() -> None:
    det = pii_detector()
    skipped = {p.type for p in det._patterns if p.needs_digit}
    assert {"PHONE", "ACCOUNT_NUMBER", "DATE_OF_BIRTH"} <= skipped
    assert not any(p.needs_digit for p in det._patterns if p.type in ("EMAIL", "PERSON"))


def test_results_equal_running_every_pattern() -> None:
    det = pii_detector()
    every = PiiDetector.__new__(PiiDetector)
    every._patterns = tuple(dataclasses.replace(p, needs_digit=False) for p in det._patterns)
    texts = [
        "Spoke with applicant Jane Doe; she can be reached at jane.doe@example.org.",
        "Name: John Q. Public\nPhone: (415) 555-0132\nDOB: 1980-02-03\nAccount no. 1234 5678 9012",
        "Mr. Alan Turing called about the loan; no phone number given.",
        "Address: 12 Baker Street, London\nSSN 123-45-6789",
        "",
        "account number: ****",
    ]
    for t in texts:
        assert det.find(t) == every.find(t)
    assert [p.type for p in det.find(texts[1])].count("PHONE") == 1
