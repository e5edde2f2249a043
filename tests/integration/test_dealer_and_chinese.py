"""Issue 9 end to end: dealer working-capital applications and a Chinese-language consumer
application through the real CreditApplicationWorkflow on a real Temporal dev server, with the
real NLP service over HTTP (language routing included), the real decision engine and SQLite.
Nothing is mocked."""

from __future__ import annotations

from creditflow.demo_cases_extra import BAD_DEALER_CODE, ZH_NOTE, extra_cases
from creditflow.nlp.uscc import is_valid_uscc
from creditflow.store import repo
from tests.helpers import start_application, wait_stage
from workflows.credit_application import CreditApplicationWorkflow
from workflows.credit_application_types import ClaimInput, DecideInput

CASES = {c["label"]: c for c in extra_cases()}


async def _approve_as_officer(handle, officer: str = "olga") -> None:  # type: ignore[no-untyped-def]
    await handle.execute_update(CreditApplicationWorkflow.claim, ClaimInput(officer_id=officer, role="officer"))
    await handle.execute_update(CreditApplicationWorkflow.decide,
                                DecideInput(officer_id=officer, role="officer", action="approve",
                                            comment="Licence, statements and bank flow checked."))


async def test_dealer_with_valid_licence_is_scored_referred_and_approved(temporal_env, worker, settings, db, task_queue):
    case = CASES["dealer (valid licence)"]
    assert is_valid_uscc(case["body"]["applicant"]["registration_number"])
    _, handle = await start_application(temporal_env.client, settings, db, case, task_queue, currency="CNY")
    st = await wait_stage(handle, {"in_review", "approved", "declined"})
    assert st.stage == "in_review", st.problems
    rec = st.recommendation
    assert rec is not None and rec.outcome == "refer" and rec.currency == "CNY"
    assert {r.code for r in rec.reasons} == {"AMOUNT_ABOVE_AUTO_AUTHORITY"}  # 50,000 > dealer auto_max 20,000
    assert st.review is not None and st.review.queue == "officer"
    # expert scorecard inputs came from the documents
    f = rec.features
    assert f["leverage"] == 0.4 and f["net_margin"] == 0.08 and f["anchor_partner"] == "known"
    assert f["cash_flow"] is not None and f["cash_flow"] > 1.0 and f["nsf_count"] == 0
    assert f["average_balance"] == 845_000.0  # (820,000 + 870,000) / 2 from the bank statement
    assert not rec.crosscheck["name_mismatch"]
    checked = {(n["doc_type"], n["field"]) for n in rec.crosscheck["names"]}
    assert ("business_license", "legal_representative") in checked and ("business_license", "company_name") in checked
    assert {r.facts.doc_type for r in st.analyzed_documents} == {"business_license", "financial_statement",
                                                                  "bank_statement"}
    await _approve_as_officer(handle)
    result = await handle.result()
    assert result.stage == "approved"
    d = result.decision
    assert d is not None and d.currency == "CNY" and d.decided_by == ["olga"]
    assert d.plans and all(p["apr"] <= 24 for p in d.plans)


async def test_dealer_with_invalid_credit_code_is_declined_for_fraud(temporal_env, worker, settings, db, task_queue):
    case = CASES["dealer (invalid credit code)"]
    assert not is_valid_uscc(BAD_DEALER_CODE)
    _, handle = await start_application(temporal_env.client, settings, db, case, task_queue, currency="CNY")
    result = await handle.result()
    assert result.stage == "declined"
    assert result.decision is not None
    codes = [r["code"] for r in result.decision.reasons]
    assert codes[0] == "FRAUD_INDICATOR" and 1 <= len(codes) <= 4
    fraud = [s for s in result.risk_signals if s.code == "FRAUD_INDICATOR"]
    assert fraud and fraud[0].evidence.text == BAD_DEALER_CODE
    assert fraud[0].polarity == "affirmed" and fraud[0].subject == "applicant"


async def test_chinese_consumer_application_in_cny(temporal_env, worker, settings, db, task_queue):
    case = CASES["Chinese consumer (CNY)"]
    app_id, handle = await start_application(temporal_env.client, settings, db, case, task_queue, currency="CNY")
    st = await wait_stage(handle, {"in_review", "approved", "declined"})
    assert st.stage == "in_review", st.problems
    assert {r.facts.doc_type for r in st.analyzed_documents} == {"id_document", "pay_stub", "bank_statement"}
    stub = next(r.facts for r in st.analyzed_documents if r.facts.doc_type == "pay_stub")
    assert stub.fields["gross_pay"] == 12000.0 and stub.currencies["gross_pay"] == "CNY"
    rec = st.recommendation
    assert rec is not None and rec.currency == "CNY" and rec.reasons
    assert rec.crosscheck["income"]["within_tolerance"] is True  # 12,000 CNY stated vs 工资条
    assert not rec.crosscheck["name_mismatch"]  # 王芳 on 身份证, 工资条, 银行流水
    # the Chinese note: signals with evidence offsets into the note text, nothing counted against her
    by_code = {s.code: s for s in st.risk_signals}
    assert by_code["DELINQUENCY"].polarity == "negated"
    assert by_code["EMPLOYMENT_LOSS"].subject == "third_party"
    for s in (by_code["DELINQUENCY"], by_code["EMPLOYMENT_LOSS"]):
        assert ZH_NOTE[s.evidence.start:s.evidence.end] == s.evidence.text
    assert not [s for s in st.risk_signals if s.counts_against_applicant]
    with db.session() as s:  # stored analyses say which language and pipeline read them
        docs = repo.documents_for(s, app_id)
        assert {d.analysis["language"] for d in docs} == {"zh"}
    await _approve_as_officer(handle)
    result = await handle.result()
    assert result.stage == "approved"
    d = result.decision
    assert d is not None and d.currency == "CNY" and d.plans and all(p["apr"] <= 24 for p in d.plans)
