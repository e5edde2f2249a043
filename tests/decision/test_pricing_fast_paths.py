"""The fast paths of pricing.py (shared 34-digit context, unrolled schedule loop, one conversion per
`plans` call) must give exactly what the plain formulas give."""

from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from creditflow.decision.pricing import _cents, _schedule_cents, level_payment, plan, plans

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("500000"), places=2)
aprs = st.decimals(min_value=Decimal("0"), max_value=Decimal("24"), places=2)
terms = st.integers(min_value=1, max_value=120)


def _reference_level_payment(principal: Decimal, apr: Decimal, months: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 34
        r = apr / Decimal(1200)
        if r == 0:
            return _cents(principal / months)
        return _cents(principal * r / (1 - (1 + r) ** -months))


@settings(max_examples=400, deadline=None)
@given(money, aprs, terms)
def test_level_payment_matches_the_formula(principal: Decimal, apr: Decimal, months: int) -> None:
    assert level_payment(principal, apr, months) == _reference_level_payment(principal, apr, months)


@settings(max_examples=300, deadline=None)
@given(money, aprs, st.lists(terms, min_size=1, max_size=5))
def test_plans_match_the_full_schedule(principal: Decimal, apr: Decimal, months_list: list[int]) -> None:
    got = plans(float(principal), float(apr), months_list)
    assert got == [plan(float(principal), float(apr), m) for m in months_list]
    for p, months in zip(got, months_list):
        cents = int(principal * 100)
        pay = int(level_payment(principal, apr, months) * 100)
        rows = _schedule_cents(cents, int(apr * 100), months, pay)
        assert p.monthly_payment == rows[0][0] / 100
        assert p.total_interest == sum(r[1] for r in rows) / 100
        assert p.total_cost == (cents + sum(r[1] for r in rows)) / 100


def test_plans_of_no_terms_is_empty() -> None:
    assert plans(1000.0, 10.0, []) == []
