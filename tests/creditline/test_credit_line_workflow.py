"""CreditLineWorkflow against the time-skipping test server: months pass in about a second.

The servicing activities are the real ones (policy file, amortisation, rules); only the NLP
service, an outside service, is replaced by canned answers (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import (
    AcceptLimitIncrease,
    CreditLineState,
    Draw,
    NoteAdded,
    RepaymentPosted,
    TransactionObserved,
)
from workflows.search_attributes import CREDIT_BUCKET, CREDIT_WATCH_LIST

from .conftest import Line


def codes(state: CreditLineState) -> list[str]:
    return [a.code for a in state.alerts]


async def search_attributes(line: Line) -> tuple[str | None, bool | None]:
    described = await line.handle.describe()
    attrs = described.typed_search_attributes
    return attrs.get(CREDIT_BUCKET), attrs.get(CREDIT_WATCH_LIST)


async def rejected_type(line: Line, draw: Draw) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await line.handle.execute_update(CreditLineWorkflow.draw, draw)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type or ""


async def pay_everything_due(line: Line, tag: str) -> None:
    state = await line.status()
    today = (await line.now()).date()
    due = round(sum(i.remaining for p in state.draws for i in p.installments
                    if i.due_on <= today and i.remaining > 0), 2)
    if due > 0:
        await line.pay(f"{tag}", due)


async def test_on_time_payer_for_twelve_months_stays_current_and_is_offered_more(start_line) -> None:
    line = await start_line(credit_limit=3000.0, grade="B")
    result = await line.draw("d1", 1200.0, term_months=12)
    assert result.plan.monthly_payment == pytest.approx(108.88)
    assert result.available_after == pytest.approx(1800.0)
    offer_seen = None
    for month in range(12):
        due_on = result.plan.installments[month].due_on
        await line.advance_to(due_on, hour=12)
        state = await line.status()
        assert state.next_due_on == due_on
        await line.pay(f"p{month}", state.next_due_amount)
        if state.pending_offer is not None and offer_seen is None:
            offer_seen = state.pending_offer
    await line.advance_days(2)
    state = await line.status()

    assert state.balance_outstanding == 0
    assert state.max_dpd == 0 and state.bucket == "current"
    assert "EW_FIRST_MISSED_PAYMENT" not in codes(state)
    assert not state.watch_list and not state.frozen
    assert state.counters.rescores >= 11  # monthly
    assert state.grade in ("A", "B")  # on-time history may lift one notch, never lower it
    # six months on book with nothing late: an increase within the product's automatic authority
    assert offer_seen is not None
    assert offer_seen.new_limit == pytest.approx(3600.0)
    assert any(a.reason_code == "EW_GOOD_STANDING" for a in state.actions)
    assert await search_attributes(line) == ("current", False)


async def test_accepting_an_offer_raises_the_limit(start_line) -> None:
    line = await start_line(credit_limit=2000.0)
    first = await line.draw("d1", 600.0, term_months=12)
    for month in range(6):
        await line.advance_to(first.plan.installments[month].due_on)
        await line.pay(f"p{month}", (await line.status()).next_due_amount)
    await line.advance_days(2)  # the offer came at six months on book and is open for 30 days
    offer = (await line.status()).pending_offer
    assert offer is not None and offer.new_limit == pytest.approx(2400.0)

    with pytest.raises(WorkflowUpdateFailedError):
        await line.handle.execute_update(CreditLineWorkflow.accept_limit_increase,
                                         AcceptLimitIncrease(offer_id="not-this-one"))
    state = await line.handle.execute_update(CreditLineWorkflow.accept_limit_increase,
                                             AcceptLimitIncrease(offer_id=offer.offer_id))
    assert state.credit_limit == pytest.approx(2400.0)
    assert state.pending_offer is None


async def test_slipping_payer_is_reminded_watched_frozen_and_cut(start_line) -> None:
    line = await start_line(credit_limit=3000.0, grade="B")
    draw = await line.draw("d1", 1200.0, term_months=12)
    first_due = draw.plan.installments[0].due_on

    await line.advance_to(first_due + timedelta(days=2))
    state = await line.status()
    assert state.bucket == "1-29" and "EW_FIRST_MISSED_PAYMENT" in codes(state)

    await line.advance_to(first_due + timedelta(days=31))
    state = await line.status()
    assert state.bucket == "30-59" and state.watch_list and not state.frozen
    assert "EW_DPD_30" in state.watch_reasons
    assert await search_attributes(line) == ("30-59", True)

    await line.advance_to(first_due + timedelta(days=61))
    state = await line.status()
    assert state.bucket == "60-89" and state.frozen and state.frozen_reason == "EW_DPD_60"
    assert codes(state).count("EW_FIRST_MISSED_PAYMENT") == 1  # one reminder per episode
    assert await search_attributes(line) == ("60-89", True)
    assert await rejected_type(line, Draw(draw_id="d2", amount=100.0, term_months=3)) == "LINE_FROZEN"

    # the monthly re-score at 60+ DPD drops two grades -> limit cut, never below what is drawn
    # (re-scores run every 30 days from opening, so by 95 DPD one has seen 60+ DPD whatever the calendar)
    await line.advance_to(first_due + timedelta(days=95))
    state = await line.status()
    assert state.grade in ("D", "E")
    cut = [a for a in state.actions if a.action == "limit_reduction"]
    assert len(cut) == 1 and cut[0].reason_code == "EW_GRADE_DROP"
    assert state.credit_limit == pytest.approx(1500.0)
    assert state.credit_limit >= state.principal_outstanding
    every_action_has_a_reason = all(a.reason_code and a.policy_version for a in state.actions)
    assert every_action_has_a_reason


async def test_recovery_after_payment_cures_and_unfreezes_per_policy(start_line) -> None:
    line = await start_line(credit_limit=3000.0)
    draw = await line.draw("d1", 1200.0, term_months=12)
    first_due = draw.plan.installments[0].due_on
    await line.advance_to(first_due + timedelta(days=62))
    assert (await line.status()).frozen

    await pay_everything_due(line, "cure")
    state = await line.status()
    assert state.days_past_due == 0 and state.bucket == "current"  # at once, not tomorrow
    assert state.frozen  # the policy wants 30 days current first
    assert await rejected_type(line, Draw(draw_id="d2", amount=100.0, term_months=3)) == "LINE_FROZEN"

    for day in range(1, 32):  # stay current: pay each installment on its due date
        await line.advance_days(1)
        await pay_everything_due(line, f"keep-{day}")
    state = await line.status()
    assert not state.frozen
    assert "EW_CURED" in codes(state)
    assert state.watch_list  # leaving the watch list takes 90 clean days
    result = await line.draw("d2", 100.0, term_months=3)
    assert result.plan.term_months == 3 and result.plan.apr == 12.0


async def test_gambling_merchants_put_the_line_on_the_watch_list_and_rescore(start_line, env) -> None:
    line = await start_line(credit_limit=3000.0, grade="B")
    await line.draw("d1", 500.0, term_months=6)
    today = (await line.now()).date()
    txns = [("t1", "Lucky Star Casino", "7995"), ("t2", "Betty's Bakery", "5462"),
            ("t3", "SportsBook Online", ""), ("t4", "Grand Hotel", "7011")]
    for txn_id, merchant, category in txns:
        await line.handle.signal(CreditLineWorkflow.transaction_observed, TransactionObserved(
            txn_id=txn_id, merchant=merchant, category=category, amount=80.0, observed_on=today))
    await line.advance_days(1)
    state = await line.status()
    assert not state.watch_list  # two gambling transactions are not yet "repeated" (policy: 3)

    await line.handle.signal(CreditLineWorkflow.transaction_observed, TransactionObserved(
        txn_id="t5", merchant="BetFair", category="", amount=50.0, observed_on=today))
    await line.handle.signal(CreditLineWorkflow.transaction_observed, TransactionObserved(
        txn_id="t5", merchant="BetFair", category="", amount=50.0, observed_on=today))  # duplicate
    await line.advance_days(1)
    state = await line.status()
    assert state.counters.transactions == 5 and state.counters.duplicates_ignored == 1
    assert state.watch_list and state.watch_reasons == ["EW_GAMBLING_TRANSACTIONS"]
    assert "EW_GAMBLING_TRANSACTIONS" in codes(state)
    assert state.grade == "C"  # re-scored the same day: -40 points = one notch
    assert any(a.action == "rescore" and a.reason_code == "EW_GAMBLING_TRANSACTIONS" for a in state.actions)
    assert await search_attributes(line) == ("current", True)


async def test_affirmed_employment_loss_in_a_note_watches_the_line(start_line) -> None:
    line = await start_line(credit_limit=3000.0, grade="B")
    await line.handle.signal(CreditLineWorkflow.note_added, NoteAdded(
        note_id="n1", text="Borrower says her husband was laid off."))
    await line.advance_days(1)
    assert not (await line.status()).watch_list  # third party: reported, not counted

    await line.handle.signal(CreditLineWorkflow.note_added, NoteAdded(
        note_id="n2", text="Borrower called: he was laid off last week and has no income now."))
    await line.advance_days(1)
    state = await line.status()
    assert state.counters.notes == 2
    assert {s.code for s in state.note_signals} == {"EMPLOYMENT_LOSS"}
    assert state.watch_list and "EW_EMPLOYMENT_LOSS" in state.watch_reasons
    assert state.grade == "C"


async def test_draw_validation_and_idempotent_messages(start_line) -> None:
    line = await start_line(credit_limit=1000.0)
    assert await rejected_type(line, Draw(draw_id="big", amount=1000.01, term_months=3)) == "INSUFFICIENT_AVAILABLE"
    assert await rejected_type(line, Draw(draw_id="odd", amount=100.0, term_months=5)) == "BAD_TERM"
    first = await line.draw("d1", 400.0, term_months=6)
    again = await line.draw("d1", 400.0, term_months=6)
    assert again.duplicate and again.plan == first.plan
    await line.pay("p1", 50.0)
    await line.pay("p1", 50.0)
    state = await line.status()
    assert len(state.draws) == 1 and state.total_drawn == pytest.approx(400.0)
    assert state.counters.payments == 1 and state.total_repaid == pytest.approx(50.0)
    assert state.available == pytest.approx(1000.0 - state.principal_outstanding)
    assert await rejected_type(line, Draw(draw_id="d2", amount=700.0, term_months=3)) == "INSUFFICIENT_AVAILABLE"


async def test_continue_as_new_carries_the_state(start_line) -> None:
    line = await start_line(credit_limit=2000.0, evaluations_per_run=5)
    first_run = (await line.handle.describe()).run_id
    draw = await line.draw("d1", 600.0, term_months=6)
    await line.pay("p1", 25.0)
    await line.handle.signal(CreditLineWorkflow.transaction_observed, TransactionObserved(
        txn_id="t1", merchant="Grocer", category="5411", amount=20.0,
        observed_on=(await line.now()).date()))
    await line.advance_days(12)
    state = await line.status()
    assert state.counters.runs >= 3  # 5 evaluations per run
    assert state.counters.evaluations_total == 12
    assert (await line.handle.describe()).run_id != first_run
    assert [p.draw_id for p in state.draws] == ["d1"]
    assert [i.due_on for i in state.draws[0].installments] == [i.due_on for i in draw.plan.installments]
    assert state.draws[0].installments[0].paid == pytest.approx(25.0)
    assert state.total_repaid == pytest.approx(25.0)
    assert [t.txn_id for t in state.transactions] == ["t1"]
    # ids remembered across runs: a duplicate payment is still ignored
    await line.handle.signal(CreditLineWorkflow.repayment_posted, RepaymentPosted(
        payment_id="p1", amount=25.0, posted_on=(await line.now()).date()))
    await line.advance_days(1)
    state = await line.status()
    assert state.total_repaid == pytest.approx(25.0) and state.counters.duplicates_ignored == 1
    assert await search_attributes(line) == ("current", False)
