"""Servicing arithmetic for a credit line: amortisation schedules and due dates.

Why a module of its own: the schedule of a draw is money the borrower owes, so it must be
computed one way everywhere (the workflow's `draw` update, statements, tests) and in decimal
arithmetic rounded to cents, never in binary floats that drift. Pure functions, no I/O.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: float | Decimal | str) -> Decimal:
    """Round half-up to cents: the convention of payment schedules."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """Same day `months` later; clamped to the month's last day (31 Jan + 1 -> 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True)
class ScheduledInstallment:
    seq: int
    due_on: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def monthly_payment(principal: Decimal, apr_percent: Decimal, term_months: int) -> Decimal:
    """Level annuity payment; zero APR divides the principal evenly."""
    if term_months <= 0:
        raise ValueError("term_months must be positive")
    if principal <= 0:
        raise ValueError("principal must be positive")
    rate = apr_percent / Decimal(1200)
    if rate == 0:
        return to_cents(principal / term_months)
    factor = (1 + rate) ** term_months
    return to_cents(principal * rate * factor / (factor - 1))


def amortize(amount: float | Decimal, apr_percent: float | Decimal, term_months: int,
             drawn_on: date) -> list[ScheduledInstallment]:
    """Monthly schedule of a draw: level payments, interest on the declining balance.

    The first installment falls due one month after the draw; the last one absorbs the
    rounding so that principal parts sum exactly to the amount drawn.
    """
    principal = to_cents(amount)
    apr = Decimal(str(apr_percent))
    if apr < 0:
        raise ValueError("apr must not be negative")
    payment = monthly_payment(principal, apr, term_months)
    rate = apr / Decimal(1200)
    balance = principal
    schedule: list[ScheduledInstallment] = []
    for seq in range(1, term_months + 1):
        interest = to_cents(balance * rate)
        part = balance if seq == term_months else min(balance, payment - interest)
        schedule.append(ScheduledInstallment(seq, add_months(drawn_on, seq), part, interest))
        balance -= part
    return schedule
