"""Installment plans and credit limits, exact to the cent.

Why Decimal: an amortisation schedule printed to an applicant must add up exactly. Rounding
is half-up to the cent on every payment and interest amount; the last payment absorbs the
rounding so the balance reaches exactly zero and the payments sum to principal + interest.
Interest is charged monthly at APR/12 on the outstanding balance (nominal APR, no fees).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from typing import Iterable

from creditflow.decision.contract import Plan

CENT = Decimal("0.01")
APR_CAP = Decimal("24")
# The arithmetic context of the annuity formula: the default context with 34 digits. Why a module constant and
# not `localcontext()` per call: entering a fresh context cost as much as the formula itself (four plans per
# decision); the results are the same because every operation below names this context explicitly.
_CTX34 = Context(prec=34)
_ONE = Decimal(1)
_D1200 = Decimal(1200)


@dataclass(frozen=True)
class Installment:
    month: int
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal  # outstanding after this payment


def _d(x: float | int | str | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def level_payment(principal: Decimal, apr: Decimal, months: int) -> Decimal:
    """The regular monthly payment (annuity formula), rounded half-up to the cent."""
    if months < 1:
        raise ValueError("months must be >= 1")
    ctx = _CTX34
    r = ctx.divide(apr, _D1200)
    if r == 0:
        return ctx.divide(principal, months).quantize(CENT, rounding=ROUND_HALF_UP, context=ctx)
    # principal * r / (1 - (1 + r) ** -months), each step in the 34-digit context
    den = ctx.subtract(_ONE, ctx.power(ctx.add(_ONE, r), -months))
    return ctx.divide(ctx.multiply(principal, r), den).quantize(CENT, rounding=ROUND_HALF_UP, context=ctx)


def _apr_bp(apr: float | Decimal) -> int:
    """APR in basis points (APR is quoted to 0.01 %); outside 0..24 % is refused."""
    a = _d(apr)
    if not 0 <= a <= APR_CAP:
        raise ValueError(f"APR {a} outside 0..{APR_CAP}")
    bp = a * 100
    if bp != bp.to_integral_value():
        raise ValueError(f"APR {a} has more than two decimals")
    return int(bp)


def _schedule_cents(p: int, bp: int, months: int, pay: int) -> list[tuple[int, int, int, int]]:
    """(payment, interest, principal, balance) in integer cents.

    Monthly interest = balance x bp / 120000 rounded half-up, computed exactly in integers."""
    rows = []
    balance = p
    for m in range(1, months + 1):
        interest = (2 * balance * bp + 120000) // 240000
        if m == months:
            principal_part = balance
        else:
            principal_part = min(max(pay - interest, 0), balance)
        balance -= principal_part
        rows.append((principal_part + interest, interest, principal_part, balance))
    return rows


def amortisation_schedule(principal: float | Decimal, apr: float | Decimal, months: int) -> list[Installment]:
    """Full schedule; sum(payment) == principal + sum(interest) and the final balance is 0.00.

    Principal is rounded half-up to the cent; APR is quoted in percent with at most two decimals."""
    p = _cents(_d(principal))
    if p < 0:
        raise ValueError("principal must be >= 0")
    bp = _apr_bp(apr)
    pay = level_payment(p, _d(apr), months)
    rows = _schedule_cents(int(p * 100), bp, months, int(pay * 100))
    return [Installment(month=i + 1, payment=Decimal(a) / 100, interest=Decimal(b) / 100,
                        principal=Decimal(c) / 100, balance=Decimal(d) / 100)
            for i, (a, b, c, d) in enumerate(rows)]


def plan(principal: float, apr: float, months: int) -> Plan:
    return plans(principal, apr, (months,))[0]


def _first_payment_and_interest_cents(p: int, bp: int, months: int, pay: int) -> tuple[int, int]:
    """(first payment, total interest) of `_schedule_cents`, the same arithmetic without building the rows.

    Why: a decision prices four plans; allocating every schedule row was a fifth of `decide()`. The loop is
    `_schedule_cents` with min/max unrolled (the balance never goes below zero, so clamping the principal part
    to [0, balance] in two comparisons is the same as `min(max(pay - interest, 0), balance)`)."""
    balance = p
    interest = (2 * balance * bp + 120000) // 240000
    if months == 1:
        return balance + interest, interest
    part = pay - interest
    if part < 0:
        part = 0
    elif part > balance:
        part = balance
    first = part + interest
    total = interest
    balance -= part
    for _ in range(months - 2):
        interest = (2 * balance * bp + 120000) // 240000
        part = pay - interest
        if part < 0:
            part = 0
        elif part > balance:
            part = balance
        balance -= part
        total += interest
    return first, total + (2 * balance * bp + 120000) // 240000


def plans(principal: float, apr: float, terms: Iterable[int]) -> list[Plan]:
    """One plan per term. The principal and APR are converted and checked once for all terms."""
    terms = list(terms)
    if not terms:
        return []
    p = _cents(_d(principal))
    apr_d = _d(apr)
    bp = _apr_bp(apr_d)
    cents = int(p * 100)
    apr_f = float(apr)
    out = []
    for months in terms:
        pay = level_payment(p, apr_d, months)
        first, interest = _first_payment_and_interest_cents(cents, bp, months, int(pay * 100))
        out.append(Plan(term_months=months, apr=apr_f, monthly_payment=first / 100,
                        total_interest=interest / 100, total_cost=(cents + interest) / 100))
    return out


def affordable_principal(max_installment: float, apr: float, months: int) -> float:
    """Largest principal whose level payment does not exceed `max_installment` (present value)."""
    if max_installment <= 0:
        return 0.0
    r = apr / 1200
    if r == 0:
        return max_installment * months
    return max_installment * (1 - (1 + r) ** -months) / r


def monthly_installment(principal: float, apr: float, months: int) -> float:
    return float(level_payment(_cents(_d(principal)), _d(apr), months))


def round_down(amount: float, step: float) -> float:
    if amount <= 0:
        return 0.0
    q = (_d(amount) / _d(step)).quantize(Decimal(1), rounding=ROUND_DOWN)
    return float(q * _d(step))


def credit_limit(*, requested: float, income: float, existing_debt: float, multiplier: float,
                 dti_cap: float, apr: float, term_months: int, round_to: float) -> tuple[float, str]:
    """limit = min(requested, multiplier x monthly income, principal affordable within the DTI cap).

    Returns (limit, binding constraint) where the constraint is "requested", "multiplier" or "dti"."""
    by_mult = multiplier * income
    by_dti = affordable_principal(dti_cap * income - existing_debt, apr, term_months)
    candidates = [(requested, "requested"), (by_mult, "multiplier"), (by_dti, "dti")]
    value, binding = min(candidates, key=lambda c: c[0])
    if binding == "requested":
        return requested, binding
    return round_down(value, round_to), binding
