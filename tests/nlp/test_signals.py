"""Risk signals: every code, polarity and subject, the DESIGN.md examples, exact offsets."""

from __future__ import annotations

import pytest

from creditflow.nlp.contract import RISK_CODES, RiskSignal
from creditflow.nlp.signals import find_risk_signals, find_signals, signals_version

REF = 2025  # reference year for "historical" years, pinned so the tests never age


def sigs(text: str, kind: str = "note") -> list[tuple[str, str, str, str]]:
    out = find_risk_signals(text, kind, reference_year=REF)
    for s in out:
        assert text[s.evidence.start:s.evidence.end] == s.evidence.text
    return [(s.code, s.polarity, s.subject, s.evidence.text) for s in out]


def only(text: str, kind: str = "note") -> tuple[str, str, str, str]:
    found = sigs(text, kind)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ DESIGN.md examples
def test_paralegal_preparing_bankruptcy_filings_is_no_signal() -> None:
    assert sigs("the applicant is a paralegal who prepares bankruptcy filings") == []


def test_husband_laid_off_is_third_party_employment_loss() -> None:
    text = "her husband was laid off"
    assert only(text) == ("EMPLOYMENT_LOSS", "affirmed", "third_party", "laid off")
    s = find_risk_signals(text, reference_year=REF)[0]
    assert (s.evidence.start, s.evidence.end) == (16, 24)
    assert not s.counts_against_applicant


def test_no_late_payments_is_negated_delinquency() -> None:
    text = "no late payments"
    s = find_risk_signals(text, reference_year=REF)[0]
    assert (s.code, s.polarity, s.subject) == ("DELINQUENCY", "negated", "applicant")
    assert (s.evidence.start, s.evidence.end, s.evidence.text) == (3, 16, "late payments")


def test_plant_closing_is_hypothetical() -> None:
    assert only("if the plant closes she might lose her job") == (
        "EMPLOYMENT_LOSS", "hypothetical", "applicant", "lose her job")


def test_bankruptcy_in_2009_discharged_2010_is_historical() -> None:
    assert only("filed for bankruptcy in 2009, discharged 2010") == (
        "BANKRUPTCY", "historical", "applicant", "filed for bankruptcy")


# ------------------------------------------------------------------ every code, affirmed
AFFIRMED = {
    "EMPLOYMENT_LOSS": ("She was laid off in March.", "laid off"),
    "INCOME_INSTABILITY": ("He has irregular income since the move.", "irregular income"),
    "GAMBLING": ("Statements show frequent casino withdrawals.", "casino"),
    "HIGH_COST_BORROWING": ("Took out two payday loans this spring.", "payday loans"),
    "DELINQUENCY": ("The car loan is 60 days past due.", "60 days past due"),
    "BANKRUPTCY": ("The applicant filed for bankruptcy last month.", "filed for bankruptcy"),
    "LEGAL_JUDGMENT": ("Wages are being garnished by a creditor.", "garnished"),
    "OVERDRAFT": ("The account shows repeated NSF fees.", "NSF fees"),
    "HIGH_DEBT_BURDEN": ("All three credit cards are maxed out.", "cards are maxed out"),
    "FRAUD_INDICATOR": ("The pay stub was altered.", "pay stub was altered"),
    "UNVERIFIED_EMPLOYMENT": ("We could not verify employment with the employer.", "could not verify employment"),
    "BUSINESS_DISTRESS": ("The dealer lost its largest customer in May.", "lost its largest customer"),
}


def test_every_risk_code_is_covered() -> None:
    assert set(AFFIRMED) == set(RISK_CODES)


@pytest.mark.parametrize("code", sorted(AFFIRMED))
def test_each_code_affirmed_with_exact_offsets(code: str) -> None:
    text, cue = AFFIRMED[code]
    found = find_risk_signals(text, reference_year=REF)
    assert len(found) == 1, found
    s = found[0]
    assert (s.code, s.polarity, s.subject, s.evidence.text) == (code, "affirmed", "applicant", cue)
    assert s.evidence.start == text.index(cue) and s.evidence.end == text.index(cue) + len(cue)
    assert s.counts_against_applicant


def test_severity_comes_from_the_taxonomy() -> None:
    sev = {c: find_risk_signals(AFFIRMED[c][0], reference_year=REF)[0].severity for c in AFFIRMED}
    assert sev["BANKRUPTCY"] == "high" and sev["OVERDRAFT"] == "medium" and sev["GAMBLING"] == "high"


# ------------------------------------------------------------------ polarity
@pytest.mark.parametrize(
    ("text", "code", "polarity"),
    [
        ("Applicant denies any gambling.", "GAMBLING", "negated"),
        ("No gambling transactions were found.", "GAMBLING", "negated"),
        ("She has never used payday lenders.", "HIGH_COST_BORROWING", "negated"),
        ("Returned items: none", "OVERDRAFT", "negated"),
        ("No evidence of altered documents.", "FRAUD_INDICATOR", "negated"),
        ("Without any overdrafts in two years.", "OVERDRAFT", "negated"),
        ("He might need a cash advance if the car breaks down.", "HIGH_COST_BORROWING", "hypothetical"),
        ("In case the store closes, he would be out of work.", "EMPLOYMENT_LOSS", "hypothetical"),
        ("There is a risk of default on the auto loan.", "DELINQUENCY", "hypothetical"),
        ("The pay stub might be altered; originals requested.", "FRAUD_INDICATOR", "hypothetical"),
        ("Had a car repossessed about ten years ago.", "DELINQUENCY", "historical"),
        ("Previously had late payments on a student loan.", "DELINQUENCY", "historical"),
        ("A judgment from 2008 was satisfied.", "LEGAL_JUDGMENT", "historical"),
        ("Formerly used payday loans, none in the last four years.", "HIGH_COST_BORROWING", "historical"),
        ("She went bankrupt years ago.", "BANKRUPTCY", "historical"),
    ],
)
def test_polarity(text: str, code: str, polarity: str) -> None:
    code_, pol, subj, _ = only(text)
    assert (code_, pol, subj) == (code, polarity, "applicant")


def test_recent_year_is_not_historical_but_old_year_is() -> None:
    assert only("Missed a payment in 2024.")[1] == "affirmed"
    assert only("Missed a payment in 2014.")[1] == "historical"


def test_recent_window_is_not_historical() -> None:
    assert only("Missed two payments in the past 3 months.")[1] == "affirmed"


def test_termination_ends_negation_scope() -> None:
    found = sigs("No late payments, but two NSF fees in March.")
    assert ("DELINQUENCY", "negated", "applicant", "late payments") in found
    assert ("OVERDRAFT", "affirmed", "applicant", "NSF fees") in found


def test_nearest_cue_wins() -> None:
    found = sigs("No late payments since the 2009 bankruptcy.")
    assert ("DELINQUENCY", "negated", "applicant", "late payments") in found
    assert ("BANKRUPTCY", "historical", "applicant", "bankruptcy") in found


def test_negation_inside_a_target_is_part_of_the_concept() -> None:
    assert only("Employer did not respond to three requests.")[:3] == (
        "UNVERIFIED_EMPLOYMENT", "affirmed", "applicant")
    assert only("Name on the ID does not match the bank statement.")[:3] == (
        "FRAUD_INDICATOR", "affirmed", "applicant")


# ------------------------------------------------------------------ subject
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("His wife filed for bankruptcy before they married.", "BANKRUPTCY"),
        ("Her brother has a gambling problem.", "GAMBLING"),
        ("The landlord's property is in foreclosure.", "DELINQUENCY"),
        ("A close friend of the applicant lost his job.", "EMPLOYMENT_LOSS"),
        ("No cash advances appear for her husband.", "HIGH_COST_BORROWING"),
        ("One of the dealer's suppliers halted operations.", "BUSINESS_DISTRESS"),
    ],
)
def test_third_party_subject(text: str, code: str) -> None:
    found = [f for f in sigs(text) if f[0] == code]
    assert found and all(f[2] == "third_party" for f in found), found


def test_subject_switches_back_to_applicant() -> None:
    found = sigs("Her husband lost his job in March and she has since missed two mortgage payments.")
    assert ("EMPLOYMENT_LOSS", "affirmed", "third_party", "lost his job") in found
    assert ("DELINQUENCY", "affirmed", "applicant", "missed two mortgage payments") in found


# ------------------------------------------------------------------ neutral-role traps
@pytest.mark.parametrize(
    "text",
    [
        "Works as a casino dealer on weekends.",
        "She works as a casino dealer and has steady tips.",
        "Applicant is a collections department manager at a bank.",
        "He is a payday loan compliance officer.",
        "She works as a bankruptcy attorney.",
        "Volunteers as a gambling addiction counselor.",
        "Works in the fraud department of a credit union.",
        "He is a poker room manager at the Riverside casino.",
        "Overdraft protection is enrolled on the checking account.",
        "Showed good judgment in prior borrowing.",
        "Applicant has excellent payment history and low utilization.",
    ],
)
def test_neutral_vocabulary_is_no_signal(text: str) -> None:
    assert sigs(text) == []


def test_role_context_does_not_hide_a_real_signal_after_but() -> None:
    found = sigs("She works as a casino dealer but lost $3,000 gambling last month.")
    assert found == [("GAMBLING", "affirmed", "applicant", "gambling")]


# ------------------------------------------------------------------ several signals, documents
def test_several_signals_in_one_note() -> None:
    text = ("Applicant missed two car payments and has an account in collections. Her husband was laid off. "
            "No bankruptcy. If hours drop she may need a payday loan.")
    found = {(c, p, s) for c, p, s, _ in sigs(text)}
    assert found == {
        ("DELINQUENCY", "affirmed", "applicant"), ("EMPLOYMENT_LOSS", "affirmed", "third_party"),
        ("BANKRUPTCY", "negated", "applicant"), ("HIGH_COST_BORROWING", "hypothetical", "applicant"),
    }


def test_bank_statement_nsf_lines_are_affirmed_overdraft() -> None:
    text = ("03/01 OPENING BALANCE 120.00\n03/04 RETURNED ITEM NSF FEE 35.00\n"
            "03/09 RETURNED ITEM NSF FEE 35.00\n03/12 PAYROLL ACME 1,820.00\n")
    found = find_risk_signals(text, "document", reference_year=REF)
    assert [(s.code, s.polarity, s.subject) for s in found] == [("OVERDRAFT", "affirmed", "applicant")]
    assert found[0].evidence.text == "RETURNED ITEM NSF FEE"


def test_document_lines_are_separate_sentences() -> None:
    text = "Overdraft fees: none\nRETURNED ITEM FEE 25.00"
    found = sigs(text, "document")
    assert ("OVERDRAFT", "negated", "applicant", "Overdraft fees") in found
    assert ("OVERDRAFT", "affirmed", "applicant", "RETURNED ITEM FEE") in found


def test_find_signals_returns_contract_models() -> None:
    risk, protected, pii = find_signals("Her husband was laid off. She is pregnant. Email: a@b.co")
    assert all(isinstance(r, RiskSignal) for r in risk)
    assert [p.category for p in protected] == ["marital_status", "pregnancy"]
    assert [p.type for p in pii] == ["EMAIL"]
    assert signals_version().startswith("signals-")


def test_empty_and_whitespace_text() -> None:
    assert find_signals("") == ([], [], [])
    assert find_signals(" \n\t ") == ([], [], [])


def test_statement_summary_rows_with_zero_are_negated() -> None:
    text = "Insufficient Funds Items   0\nReturned items: 2\nNumber of NSF items: 0\n"
    found = sigs(text, "document")
    assert ("OVERDRAFT", "negated", "applicant", "Insufficient Funds Items") in found
    assert ("OVERDRAFT", "affirmed", "applicant", "Returned items") in found
    assert ("OVERDRAFT", "negated", "applicant", "NSF items") in found
