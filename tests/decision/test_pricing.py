from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditflow.decision.pricing import amortisation_schedule, credit_limit, plan
from creditflow.decision.policy import load_policy

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500000"), places=2)
aprs = st.decimals(min_value=Decimal("0"), max_value=Decimal("24"), places=2)
terms = st.integers(min_value=1, max_value=120)


@settings(max_examples=300, deadline=None)
@given(money, aprs, terms)
def test_schedule_sums_and_reaches_zero(principal: Decimal, apr: Decimal, months: int) -> None:
    rows = amortisation_schedule(principal, apr, months)
    assert len(rows) == months
    interest = sum(r.interest for r in rows)
    assert sum(r.payment for r in rows) == principal + interest
    assert sum(r.principal for r in rows) == principal
    assert rows[-1].balance == Decimal("0.00")
    assert all(r.balance >= 0 and r.interest >= 0 for r in rows)
    assert all(r.payment == r.payment.quantize(Decimal("0.01")) for r in rows)


@settings(max_examples=100, deadline=None)
@given(money, aprs, st.sampled_from([3, 6, 12, 24]))
def test_plan_totals_match_schedule(principal: Decimal, apr: Decimal, months: int) -> None:
    p = plan(float(principal), float(apr), months)
    rows = amortisation_schedule(principal, apr, months)
    assert Decimal(str(p.total_interest)) == sum(r.interest for r in rows)
    assert Decimal(str(p.total_cost)) == principal + sum(r.interest for r in rows)
    assert p.apr <= 24


def test_known_schedule_half_up() -> None:
    # 1000 at 12% over 3 months: payment 340.02 (340.022...), interest 10.00, 6.70, 3.37
    rows = amortisation_schedule(1000, 12, 3)
    assert [r.payment for r in rows[:2]] == [Decimal("340.02")] * 2
    assert [r.interest for r in rows] == [Decimal("10.00"), Decimal("6.70"), Decimal("3.37")]
    assert rows[-1].payment == Decimal("340.03")  # last payment absorbs rounding


def test_zero_apr_and_apr_cap() -> None:
    rows = amortisation_schedule(100, 0, 3)
    assert [r.payment for r in rows] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    with pytest.raises(ValueError):
        amortisation_schedule(100, Decimal("24.01"), 3)


def test_policy_aprs_never_above_24() -> None:
    for product in ("consumer_installment", "dealer_working_capital"):
        assert max(load_policy(product).spec.pricing.apr_by_grade.values()) <= 24


def test_limit_never_above_request_and_respects_dti() -> None:
    lim, why = credit_limit(requested=3000, income=5000, existing_debt=0, multiplier=8, dti_cap=0.45, apr=10,
                            term_months=12, round_to=100)
    assert (lim, why) == (3000, "requested")
    lim, why = credit_limit(requested=50000, income=3000, existing_debt=1000, multiplier=8, dti_cap=0.45, apr=10,
                            term_months=12, round_to=100)
    assert why == "dti" and lim % 100 == 0
    from creditflow.decision.pricing import monthly_installment
    assert (1000 + monthly_installment(lim, 10, 12)) / 3000 <= 0.45
