from creditflow.decision.contract import DocumentFacts
from creditflow.decision.engine import canonical_sha256, decide
from creditflow.decision.policy import load_policy, protected_reference
from creditflow.decision.scorecard import Scorecard
from creditflow.nlp.contract import Evidence, RiskSignal

from decision_builders import consumer_applicant, consumer_docs, consumer_input, dealer_input


def signal(code: str, polarity: str = "affirmed", subject: str = "applicant", severity: str = "high") -> RiskSignal:
    return RiskSignal(code=code, polarity=polarity, subject=subject, severity=severity,
                      evidence=Evidence(text="x", start=0, end=1))


def weak_applicant() -> dict:
    return consumer_applicant(employment_years=0.3, savings_balance=20, checking_balance=10, housing="rent",
                              credit_history="no_credits", monthly_income=2500, monthly_debt_payments=200)


def test_strong_applicant_is_approved_with_grade_limit_and_four_plans() -> None:
    d = decide(consumer_input())
    assert d.outcome == "approve" and d.grade in ("A", "B", "C")
    assert d.credit_limit == 4000 and d.refer_queue is None and d.required_approvals == 1
    assert [p.term_months for p in d.plans] == [3, 6, 12, 24]
    apr = load_policy("consumer_installment").spec.pricing.apr_by_grade[d.grade]
    assert all(p.apr == apr <= 24 for p in d.plans)
    assert all(abs(p.total_cost - 4000 - p.total_interest) < 1e-9 for p in d.plans)
    assert d.policy_version == load_policy("consumer_installment").sha256
    assert d.model_version == Scorecard.load().sha256
    assert d.features_sha256 == canonical_sha256(d.features) and len(d.inputs_sha256) == 64
    assert d.authority.auto_max == 5000
    assert sum(i.points for i in d.score_breakdown) == __import__("pytest").approx(d.score, abs=1e-3)


def test_decision_is_reproducible() -> None:
    a, b = decide(consumer_input()), decide(consumer_input())
    assert a.model_dump() == b.model_dump()


def test_weak_applicant_declined_with_at_most_four_plain_reasons() -> None:
    d = decide(consumer_input(amount=9000, term=48, purpose="business", applicant=weak_applicant(),
                              documents=consumer_docs(income=2500)))
    assert d.outcome == "decline"
    assert 1 <= len(d.reasons) <= 4
    assert all(r.code and r.text.endswith(".") for r in d.reasons)
    assert len({r.code for r in d.reasons}) == len(d.reasons)


def test_income_mismatch_refers() -> None:
    d = decide(consumer_input(documents=consumer_docs(income=4500)))  # stated 6000: 33% off
    assert d.outcome == "refer" and d.refer_queue == "officer"
    assert "RF_INCOME_MISMATCH" in {h.rule_id for h in d.rules_fired}
    assert d.crosscheck["income"]["within_tolerance"] is False


def test_amount_above_auto_authority_goes_to_officer_queue() -> None:
    d = decide(consumer_input(amount=12000, applicant=consumer_applicant(monthly_income=9000),
                              documents=consumer_docs(income=9000)))
    assert d.outcome == "refer" and d.refer_queue == "officer" and d.required_approvals == 1
    assert "AMOUNT_ABOVE_AUTO_AUTHORITY" in {r.code for r in d.reasons}
    assert d.credit_limit == 12000 and len(d.plans) == 4


def test_above_four_eyes_needs_two_approvals() -> None:
    d = decide(consumer_input(amount=25000, term=24, applicant=consumer_applicant(monthly_income=15000),
                              documents=consumer_docs(income=15000)))
    assert d.outcome == "refer" and d.required_approvals == 2 and d.refer_queue == "senior"


def test_minor_is_declined() -> None:
    d = decide(consumer_input(applicant=consumer_applicant(date_of_birth="2008-01-01")))
    assert d.outcome == "decline" and d.reasons[0].code == "LEGAL_CAPACITY"
    assert d.crosscheck["is_minor"] is True


def test_expired_id_is_declined() -> None:
    d = decide(consumer_input(documents=consumer_docs(expiry="2025-11-19")))
    assert d.outcome == "decline" and "ID_EXPIRED" in {r.code for r in d.reasons}


def test_identity_mismatch_is_declined() -> None:
    docs = consumer_docs()
    docs[2] = DocumentFacts(document_id="bs1", sha256="c" * 64, doc_type="bank_statement",
                            fields={"account_holder": "Robert Brown", "period_start": "2025-10-01",
                                    "period_end": "2025-10-31"})
    d = decide(consumer_input(documents=docs))
    assert d.outcome == "decline" and "IDENTITY_MISMATCH" in {r.code for r in d.reasons}


def test_affirmed_fraud_and_bankruptcy_decline() -> None:
    for code in ("FRAUD_INDICATOR", "BANKRUPTCY"):
        d = decide(consumer_input(signals=[signal(code)]))
        assert d.outcome == "decline" and d.reasons[0].code == code


def test_negated_hypothetical_historical_third_party_signals_do_not_count() -> None:
    baseline = decide(consumer_input())
    for s in (signal("BANKRUPTCY", polarity="negated"), signal("BANKRUPTCY", polarity="historical"),
              signal("EMPLOYMENT_LOSS", polarity="hypothetical"), signal("FRAUD_INDICATOR", subject="third_party"),
              signal("GAMBLING", subject="third_party", severity="medium")):
        d = decide(consumer_input(signals=[s]))
        assert d.outcome == baseline.outcome == "approve", s
        assert d.rules_fired == []


def test_affirmed_medium_signal_refers() -> None:
    d = decide(consumer_input(signals=[signal("GAMBLING", severity="medium")]))
    assert d.outcome == "refer" and "RF_SIGNAL_MEDIUM" in {h.rule_id for h in d.rules_fired}


def test_incomplete_application_is_not_declined() -> None:
    docs = [d for d in consumer_docs() if d.doc_type != "bank_statement"]
    d = decide(consumer_input(documents=docs))
    assert d.outcome == "refer" and d.missing == ["bank_statement"] and d.refer_queue is None
    docs = consumer_docs()
    docs[0] = DocumentFacts(document_id="id1", sha256="a" * 64, doc_type="id_document",
                            fields={"full_name": "Jane Smith"})
    d = decide(consumer_input(documents=docs))
    assert d.outcome == "refer" and "id_document.expiry_date" in d.missing


def test_dti_over_cap_is_declined() -> None:
    d = decide(consumer_input(applicant=consumer_applicant(monthly_debt_payments=3000)))
    assert d.outcome == "decline" and "DTI_OVER_CAP" in {r.code for r in d.reasons}


def test_counteroffer_when_capacity_below_request() -> None:
    d = decide(consumer_input(amount=5000, term=6, applicant=consumer_applicant(monthly_income=2000,
                                                                                monthly_debt_payments=500),
                              documents=consumer_docs(income=2000)))
    assert d.outcome == "counteroffer"
    assert d.counteroffer_amount is not None and 500 <= d.counteroffer_amount < 5000
    assert d.credit_limit == d.counteroffer_amount and len(d.plans) == 4 and len(d.reasons) <= 4


def test_no_protected_attribute_in_features() -> None:
    d = decide(consumer_input())
    for key in d.features:
        assert protected_reference(key) is None, key
    assert "full_name" not in d.features and "date_of_birth" not in d.features
    assert "1985-04-02" not in str(d.features)


def test_dealer_strong_approved_and_weak_declined() -> None:
    d = decide(dealer_input())
    assert d.outcome == "approve" and d.grade in ("A", "B", "C") and d.pd is None
    assert d.credit_limit == 15000 and len(d.plans) == 4
    big = decide(dealer_input(amount=150000))
    assert big.outcome in ("refer",) and big.required_approvals == 2
    weak = dealer_input()
    weak.documents[1].fields.update(total_liabilities=1_300_000, net_income=-50_000)
    dw = decide(weak)
    assert dw.outcome == "decline" and "HIGH_LEVERAGE" in {r.code for r in dw.reasons}
