"""Unit tests of the early-warning rules, behavioural re-score and servicing arithmetic (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from creditflow.decision import early_warning as ew
from creditflow.decision.servicing_math import add_months, amortize, monthly_payment
from workflows.credit_line_types import EarlyWarningRequest

AS_OF = date(2026, 6, 1)


@pytest.fixture(scope="module")
def policy() -> ew.EarlyWarningPolicy:
    return ew.load_policy()


def snap(**overrides: object) -> ew.Snapshot:
    data: dict[str, object] = dict(as_of=AS_OF, product="consumer_installment", credit_limit=3000.0,
                                   origination_limit=3000.0, principal_outstanding=1000.0,
                                   origination_grade="B", grade="B")
    data.update(overrides)
    return ew.Snapshot.model_validate(data)


def fired(evaluation: ew.Evaluation) -> list[tuple[str, str]]:
    return [(a.action, a.reason_code) for a in evaluation.actions]


def txn(merchant: str, category: str = "", days_ago: int = 1) -> dict[str, object]:
    return {"merchant": merchant, "category": category, "amount": 40.0,
            "observed_on": AS_OF - timedelta(days=days_ago)}


def test_policy_version_is_the_file_sha256(policy: ew.EarlyWarningPolicy) -> None:
    import hashlib
    assert policy.version == hashlib.sha256(ew.POLICY_PATH.read_bytes()).hexdigest()


def test_a_clean_line_triggers_nothing(policy: ew.EarlyWarningPolicy) -> None:
    result = ew.evaluate(snap(), policy)
    assert result.actions == [] and result.active_rules == [] and not result.watch_conditions_active


@pytest.mark.parametrize(("dpd", "expected"), [
    (1, [("reminder", "EW_FIRST_MISSED_PAYMENT")]),
    (30, [("reminder", "EW_FIRST_MISSED_PAYMENT"), ("watch_list", "EW_DPD_30")]),
    (60, [("reminder", "EW_FIRST_MISSED_PAYMENT"), ("watch_list", "EW_DPD_30"), ("freeze", "EW_DPD_60")]),
])
def test_delinquency_ladder(policy: ew.EarlyWarningPolicy, dpd: int, expected: list[tuple[str, str]]) -> None:
    assert fired(ew.evaluate(snap(dpd=dpd), policy)) == expected


def test_rules_are_edge_triggered(policy: ew.EarlyWarningPolicy) -> None:
    first = ew.evaluate(snap(dpd=31), policy)
    again = ew.evaluate(snap(dpd=45), policy, previously_active=first.active_rules)
    assert again.actions == [] and again.active_rules == first.active_rules
    worse = ew.evaluate(snap(dpd=60), policy, previously_active=again.active_rules)
    assert fired(worse) == [("freeze", "EW_DPD_60")]
    # cured then late again: a new episode gets a new reminder
    cured = ew.evaluate(snap(dpd=0), policy, previously_active=worse.active_rules)
    late_again = ew.evaluate(snap(dpd=1), policy, previously_active=cured.active_rules)
    assert fired(late_again) == [("reminder", "EW_FIRST_MISSED_PAYMENT")]


def test_gambling_needs_repeated_transactions_inside_the_window(policy: ew.EarlyWarningPolicy) -> None:
    two = [txn("Lucky Star Casino"), txn("anything", "7995")]
    assert ew.evaluate(snap(transactions=two), policy).actions == []
    three = two + [txn("Paddy's Sportsbook")]
    assert fired(ew.evaluate(snap(transactions=three), policy)) == [
        ("watch_list", "EW_GAMBLING_TRANSACTIONS"), ("rescore", "EW_GAMBLING_TRANSACTIONS")]
    stale = two + [txn("Old Casino", days_ago=45)]
    assert ew.evaluate(snap(transactions=stale), policy).actions == []


@pytest.mark.parametrize(("merchant", "category", "gambling"), [
    ("Lucky Star Casino", "", True), ("BetFair", "", True), ("bet365", "", True), ("State Lottery", "", True),
    ("Anything", "7995", True), ("Betty's Bakery", "5462", False), ("Alphabet Inc", "", False),
    ("Supermarket", "5411", False), ("Poker Face Hair Salon", "7230", True),
])
def test_gambling_merchant_matching(policy: ew.EarlyWarningPolicy, merchant: str, category: str,
                                    gambling: bool) -> None:
    # (a hair salon called "Poker Face" is a known false positive of name patterns; the
    # category would be the better signal and is checked first)
    assert policy.is_gambling(merchant, category) is gambling


def _signal(code: str, polarity: str = "affirmed", subject: str = "applicant") -> dict[str, object]:
    return {"code": code, "polarity": polarity, "subject": subject, "severity": "high",
            "observed_on": AS_OF - timedelta(days=2)}


def test_only_affirmed_applicant_employment_loss_counts(policy: ew.EarlyWarningPolicy) -> None:
    for polarity, subject in [("affirmed", "third_party"), ("negated", "applicant"),
                              ("hypothetical", "applicant"), ("historical", "applicant")]:
        assert ew.evaluate(snap(note_signals=[_signal("EMPLOYMENT_LOSS", polarity, subject)]), policy).actions == []
    result = ew.evaluate(snap(note_signals=[_signal("EMPLOYMENT_LOSS")]), policy)
    assert fired(result) == [("watch_list", "EW_EMPLOYMENT_LOSS"), ("rescore", "EW_EMPLOYMENT_LOSS")]


def test_grade_drop_of_two_cuts_the_limit_but_not_below_the_drawn_principal(policy: ew.EarlyWarningPolicy) -> None:
    one = ew.evaluate(snap(grade="C"), policy)
    assert one.actions == []
    two = ew.evaluate(snap(grade="D", principal_outstanding=1000.0), policy)
    assert fired(two) == [("limit_reduction", "EW_GRADE_DROP")] and two.actions[0].new_limit == 1500.0
    mostly_drawn = ew.evaluate(snap(grade="D", principal_outstanding=2600.0), policy)
    assert mostly_drawn.actions[0].new_limit == 2600.0
    fully_drawn = ew.evaluate(snap(grade="E", principal_outstanding=3000.0), policy)
    assert fully_drawn.actions == []  # nothing to cut: no action pretending otherwise


def test_good_standing_offer_is_capped_by_policy(policy: ew.EarlyWarningPolicy) -> None:
    good = dict(months_on_book=6, max_dpd_180d=0)
    assert fired(ew.evaluate(snap(**good), policy)) == [("limit_increase_offer", "EW_GOOD_STANDING")]
    assert ew.evaluate(snap(**good), policy).actions[0].new_limit == 3600.0
    assert ew.evaluate(snap(**good, credit_limit=4900.0), policy).actions[0].new_limit == 5000.0
    assert ew.evaluate(snap(**good, credit_limit=5000.0), policy).actions == []  # at the cap
    for spoiler in (dict(max_dpd_180d=3), dict(watch_list=True), dict(frozen=True), dict(offer_open=True),
                    dict(days_since_last_offer=100), dict(principal_outstanding=0.0), dict(months_on_book=5)):
        assert ew.evaluate(snap(**{**good, **spoiler}), policy).actions == [], spoiler


def test_dealer_rules(policy: ew.EarlyWarningPolicy) -> None:
    reports = [{"reported_on": AS_OF - timedelta(days=30 * k), "anchor_orders_amount": amount}
               for k, amount in ((3, 100_000.0), (2, 110_000.0), (1, 90_000.0), (0, 60_000.0))]
    dealer = ew.evaluate(snap(product="dealer_working_capital", bureau=reports), policy)
    assert ("watch_list", "EW_ANCHOR_ORDERS_FALLING") in fired(dealer)
    consumer = ew.evaluate(snap(bureau=reports), policy)
    assert consumer.actions == []  # the anchor rule is for dealers only
    overdue = ew.evaluate(snap(product="dealer_working_capital",
                               bureau=[{"reported_on": AS_OF, "receivables_overdue_days": 75}]), policy)
    assert ("watch_list", "EW_RECEIVABLES_OVERDUE") in fired(overdue)


def test_anchor_orders_change_compares_latest_with_earlier_mean() -> None:
    reports = [ew.BureauReport(reported_on=AS_OF - timedelta(days=k), anchor_orders_amount=a)
               for k, a in ((3, 100.0), (2, 100.0), (1, 100.0), (0, 70.0))]
    assert ew.anchor_orders_change(reports) == pytest.approx(-0.3)
    assert ew.anchor_orders_change(reports[:1]) == 0.0


def test_watch_list_release_after_clean_days(policy: ew.EarlyWarningPolicy) -> None:
    assert ew.evaluate(snap(watch_list=True, watch_clean_days=89), policy).actions == []
    assert fired(ew.evaluate(snap(watch_list=True, watch_clean_days=90), policy)) == [
        ("watch_list_release", "EW_WATCH_RELEASED")]


def test_unfreeze_after_thirty_current_days(policy: ew.EarlyWarningPolicy) -> None:
    assert ew.evaluate(snap(frozen=True, days_current=29), policy).actions == []
    assert fired(ew.evaluate(snap(frozen=True, days_current=30), policy)) == [("unfreeze", "EW_CURED")]


def test_rescore_moves_grades_by_notches(policy: ew.EarlyWarningPolicy) -> None:
    assert ew.rescore(snap(), 600.0, policy).grade == "B"
    assert ew.rescore(snap(dpd=65), 600.0, policy).model_dump(include={"score", "grade"}) == {
        "score": 500.0, "grade": "D"}
    assert ew.rescore(snap(dpd=120), 600.0, policy).grade == "E"
    gambler = ew.rescore(snap(transactions=[txn("Casino")] * 3), 600.0, policy)
    assert gambler.grade == "C" and gambler.points == {"GAMBLING": -40.0}
    # good behaviour lifts at most one notch above origination
    assert ew.rescore(snap(months_on_book=12, origination_grade="C", grade="C"), 600.0, policy).grade == "C"
    assert ew.rescore(snap(months_on_book=12, origination_grade="A", grade="A"), 600.0, policy).grade == "A"


def _write_policy(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(ew.POLICY_PATH.read_text())
    mutate(data)
    path = tmp_path / "early_warning.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("mutate", [
    lambda d: d["rules"][0].update(when="dpd_typo >= 1"),  # unknown fact
    lambda d: d["rules"][0].update(when="product >= 1"),  # type mismatch
    lambda d: d["rules"][0].update(actions=["launch_rocket"]),  # unknown action
    lambda d: d["rules"].append(dict(d["rules"][0])),  # duplicate id
    lambda d: d["line"]["default_plans"][0].update(apr=29.0),  # APR above 24%
])
def test_bad_policy_files_are_refused_at_load(tmp_path: Path, mutate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        ew.load_policy(_write_policy(tmp_path, mutate))


def test_workflow_snapshot_carries_every_fact_input() -> None:
    """The workflow's request type and the rules' snapshot must stay in step."""
    needed = set(ew.Snapshot.model_fields)
    assert needed <= set(EarlyWarningRequest.model_fields)


# ---------------------------------------------------------------- servicing arithmetic

def test_amortization_matches_the_annuity_formula_and_sums_to_the_draw() -> None:
    schedule = amortize(1200, 16.0, 12, date(2026, 1, 31))
    assert monthly_payment(Decimal("1200.00"), Decimal("16"), 12) == Decimal("108.88")
    assert sum(i.principal for i in schedule) == Decimal("1200.00")
    assert [i.due_on for i in schedule[:3]] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert schedule[0].interest == Decimal("16.00")
    assert all(i.interest >= 0 for i in schedule)


def test_zero_apr_and_bad_input() -> None:
    schedule = amortize(100, 0, 3, date(2026, 1, 1))
    assert [i.amount for i in schedule] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    with pytest.raises(ValueError):
        amortize(100, 10, 0, date(2026, 1, 1))
    with pytest.raises(ValueError):
        amortize(0, 10, 3, date(2026, 1, 1))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
