"""The portfolio summary's aggregation (pure): counts and balances by bucket, month-end buckets
derived from each line's daily DPD window, roll rates month over month, open alerts."""

from __future__ import annotations

from datetime import date, timedelta

from creditflow.api.routes.portfolio import bucket_on, previous_month_ends, roll_rates, summarize
from workflows.credit_line_types import Alert, CreditLineState

AS_OF = date(2026, 3, 15)


def line(app: str, dpd_by_day: dict[date, int], *, opened_on: date = date(2025, 12, 1), limit: float = 1000.0,
         principal: float = 0.0, alerts: list[Alert] | None = None, **over: object) -> CreditLineState:
    """A line evaluated daily from `opened_on` + 1 to AS_OF; DPD per day from `dpd_by_day`
    (a step function: each key starts a new value)."""
    window: list[int] = []
    day, value = opened_on + timedelta(days=1), 0
    while day <= AS_OF:
        value = dpd_by_day.get(day, value)
        window.append(value)
        day += timedelta(days=1)
    from workflows.credit_line_types import bucket_for

    fields: dict = dict(application_id=app, product="consumer_installment", currency="USD", opened_on=opened_on,
                        credit_limit=limit, origination_limit=limit, origination_score=600.0,
                        origination_grade="B", score=600.0, grade="B", principal_outstanding=principal,
                        balance_outstanding=principal, available=limit - principal, dpd_window=window[-180:],
                        last_evaluated_on=AS_OF, days_past_due=window[-1], bucket=bucket_for(window[-1]),
                        alerts=alerts or [])
    fields.update(over)
    return CreditLineState(**fields)


def test_previous_month_ends() -> None:
    assert previous_month_ends(AS_OF, 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]


def test_bucket_on_reads_the_dpd_window() -> None:
    # missed a payment due Jan 10: 1 DPD on Jan 11, so 21 DPD on Jan 31, 49 on Feb 28; paid Mar 5
    slipping = line("a", {date(2026, 1, 11): 1, date(2026, 3, 5): 0})
    slipping.dpd_window = [0] * 40 + list(range(1, 54)) + [0] * 11  # Dec 2..Jan 10, Jan 11..Mar 4, Mar 5..15
    assert len(slipping.dpd_window) == (AS_OF - date(2025, 12, 1)).days
    assert bucket_on(slipping, date(2025, 12, 31)) == "current"
    assert bucket_on(slipping, date(2026, 1, 31)) == "1-29"
    assert bucket_on(slipping, date(2026, 2, 28)) == "30-59"
    assert bucket_on(slipping, AS_OF) == "current"
    assert bucket_on(slipping, date(2025, 11, 30)) is None  # before the line opened
    short = line("b", {}, dpd_window=[0] * 10)
    assert bucket_on(short, date(2026, 1, 31)) is None  # older than the remembered window


def test_summary_counts_balances_and_roll_rates() -> None:
    good = line("good", {}, principal=400.0)
    slipping = line("slip", {}, principal=900.0, limit=1000.0)
    slipping.dpd_window = [0] * 40 + list(range(1, 65))  # 1-29 at Jan 31, 30-59 at Feb 28, 64 DPD now
    slipping.days_past_due, slipping.bucket = 64, "60-89"
    slipping.watch_list, slipping.frozen = True, True
    new = line("new", {}, opened_on=date(2026, 3, 1), principal=100.0, limit=500.0)
    alerts = [Alert(alert_id="slip-1", raised_on=date(2026, 3, 12), code="EW_DPD_60", severity="high",
                    message="A payment is 60 or more days past due; new draws are frozen."),
              Alert(alert_id="slip-0", raised_on=date(2026, 1, 11), code="EW_FIRST_MISSED_PAYMENT",
                    severity="low", message="A scheduled payment was missed.")]
    slipping.alerts = alerts

    s = summarize([good, slipping, new], AS_OF, alert_days=30)
    rows = {b["bucket"]: b for b in s["buckets"]}
    assert [b["bucket"] for b in s["buckets"]] == ["current", "1-29", "30-59", "60-89", "90+"]
    assert rows["current"]["count"] == 2 and rows["current"]["principal_outstanding"] == 500.0
    assert rows["current"]["credit_limit"] == 1500.0
    assert rows["60-89"]["count"] == 1 and rows["60-89"]["principal_outstanding"] == 900.0
    assert s["totals"]["count"] == 3 and s["totals"]["principal_outstanding"] == 1400.0
    assert (s["watch_list"], s["frozen"], s["delinquent"]) == (1, 1, 1)

    steps = {(r["from_month"], r["to_month"]): r for r in s["roll_rates"]}
    jan_feb = steps[("2026-01", "2026-02")]
    assert jan_feb["lines"] == 2  # "new" was not on book yet
    assert jan_feb["matrix"]["1-29"]["30-59"] == 1 and jan_feb["roll_forward"]["1-29"] == 1.0
    assert jan_feb["roll_forward"]["current"] == 0.0 and jan_feb["roll_forward"]["90+"] is None
    feb_mar = steps[("2026-02", "2026-03")]
    assert feb_mar["matrix"]["30-59"]["60-89"] == 1 and feb_mar["lines"] == 2
    dec_jan = steps[("2025-12", "2026-01")]
    assert dec_jan["matrix"]["current"]["1-29"] == 1 and dec_jan["roll_forward"]["current"] == 0.5
    assert all(r["from_month"] != "2025-09" for r in s["roll_rates"])  # nothing on book then

    # open alerts: the last 30 days only, most recent first
    assert s["alerts"]["open"] == 1 and s["alerts"]["by_severity"]["high"] == 1
    item = s["alerts"]["items"][0]
    assert item["application_id"] == "slip" and item["code"] == "EW_DPD_60" and item["frozen"] is True


def test_cure_is_counted_as_such() -> None:
    cured = line("c", {})
    cured.dpd_window = [0] * 40 + list(range(1, 36)) + [0] * 29  # 30-59 at Feb 14 .. paid Feb 15
    cured.dpd_window = cured.dpd_window[-(AS_OF - date(2025, 12, 1)).days:]
    rates = roll_rates([cured], AS_OF)
    jan_feb = next(r for r in rates if r["to_month"] == "2026-02")
    assert jan_feb["matrix"]["1-29"]["current"] == 1 and jan_feb["cure"]["1-29"] == 1.0
    assert summarize([], AS_OF)["roll_rates"] == [] and summarize([], AS_OF)["lines"] == 0
