"""Revenue trend for dealers when two financial-statement periods are given (issue 9)."""

from __future__ import annotations

from creditflow.decision.contract import DocumentFacts
from creditflow.decision.dealer import revenue_trend
from creditflow.decision.engine import decide
from tests.decision.decision_builders import dealer_input


def _with_previous(revenue: float):  # type: ignore[no-untyped-def]
    inp = dealer_input()
    prev = DocumentFacts(document_id="fs0", sha256="a" * 64, doc_type="financial_statement",
                         fields={"company_name": "Bright Motors", "period_end": "2023-12-31", "revenue": revenue,
                                 "net_income": 120_000, "total_assets": 1_100_000, "total_liabilities": 480_000})
    return inp.model_copy(update={"documents": [prev, *inp.documents]})


def test_trend_needs_two_periods_and_uses_the_latest_for_revenue() -> None:
    assert revenue_trend(dealer_input()) is None
    inp = _with_previous(2_000_000)
    assert revenue_trend(inp) == round((2_450_000 - 2_000_000) / 2_000_000, 4)
    d = decide(inp)
    assert d.features["documented_annual_revenue"] == 2_450_000  # the latest period, whatever the upload order
    assert d.features["revenue_periods"] == 2
    assert "RF_REVENUE_FALLING" not in {h.rule_id for h in d.rules_fired}


def test_falling_revenue_is_referred_with_a_reason() -> None:
    d = decide(_with_previous(4_000_000))  # 2.45M after 4.0M: -39%
    assert d.features["revenue_trend"] < -0.2
    hits = {h.rule_id: h for h in d.rules_fired}
    assert "RF_REVENUE_FALLING" in hits and hits["RF_REVENUE_FALLING"].reason_code == "REVENUE_FALLING"
    assert d.outcome in ("refer", "decline")
