"""The portfolio page in real Chromium against the real API, a real Temporal dev server and a
worker running the real `CreditLineWorkflow`.

Lines with months of history cannot be grown on a real-time server inside a test, and the
time-skipping test server has no visibility (list) API, which the summary needs. So each line
is started the way continue-as-new starts the next run of a line: with `carried_state`. The
carried states are built with the workflow's own pure helpers (amortisation of a draw, the
payment waterfall, days past due, bucket), so they are what the daily evaluation would have
produced; nothing in the system is mocked.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import expect

from creditflow.activities.servicing import plan_draw
from workflows.credit_line import CreditLineWorkflow
from workflows.credit_line_types import (
    Alert,
    CreditLineInput,
    CreditLineState,
    PlanDrawRequest,
    apply_payment,
    bucket_for,
    days_past_due,
    refresh,
)

pytestmark = [pytest.mark.browser]


@pytest_asyncio.fixture
async def worker(temporal_env, settings, db, task_queue: str):  # type: ignore[no-untyped-def]
    """The production worker on this test's task queue (no note is sent, so no NLP service)."""
    from creditflow.worker import build_worker

    settings.task_queue = task_queue
    async with build_worker(temporal_env.client, settings, db, task_queue=task_queue) as w:
        yield w


async def seeded_state(app_id: str, today: date, opened_days_ago: int, draw: float | None,
                       paid_installments: int, alerts: list[tuple[int, str, str, str]] = (),
                       **flags: object) -> CreditLineState:
    """A line opened `opened_days_ago` days ago with one 12-month draw on its first day, of which
    the first `paid_installments` installments were paid when due."""
    opened = today - timedelta(days=opened_days_ago)
    st = CreditLineState(application_id=app_id, product="consumer_installment", currency="USD", opened_on=opened,
                         credit_limit=3000.0, origination_limit=3000.0, origination_score=620.0,
                         origination_grade="B", score=620.0, grade="B")
    if draw:
        plan = await plan_draw(PlanDrawRequest(application_id=app_id, draw_id="d1", amount=draw, term_months=12,
                                               apr=16.0, drawn_on=opened))
        st.draws.append(plan)
        st.total_drawn = plan.amount
        for item in plan.installments[:paid_installments]:
            if item.due_on <= today:
                apply_payment(st, item.amount)
    # the daily DPD the line would have seen, oldest first (payments were made on their due dates)
    window = []
    for back in range(min(opened_days_ago, 180), 0, -1):
        window.append(days_past_due(st, today - timedelta(days=back - 1)))
    refresh(st, today)
    st.dpd_window = window
    st.days_past_due = window[-1] if window else 0
    st.max_dpd = max(window, default=0)
    st.bucket = bucket_for(st.days_past_due)  # type: ignore[assignment]
    st.last_evaluated_on = today
    st.counters.alerts_raised = len(alerts)
    st.alerts = [Alert(alert_id=f"{app_id}-{i + 1}", raised_on=today - timedelta(days=ago), code=code,
                       severity=sev, message=msg)  # type: ignore[arg-type]
                 for i, (ago, code, sev, msg) in enumerate(alerts)]
    for key, value in flags.items():
        setattr(st, key, value)
    return st


async def test_portfolio_page_shows_buckets_roll_rates_and_alerts(temporal_env, worker, api_url, tokens, page,
                                                                  screenshots, task_queue) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(timezone.utc).date()
    ids = [f"pf{uuid.uuid4().hex[:10]}" for _ in range(5)]
    states = [
        await seeded_state(ids[0], today, 130, 1200.0, paid_installments=12),   # pays on time
        await seeded_state(ids[1], today, 100, 900.0, paid_installments=12),
        await seeded_state(ids[2], today, 20, None, paid_installments=0),       # nothing drawn yet
        await seeded_state(ids[3], today, 50, 800.0, paid_installments=0,       # first payment missed
                           alerts=[(19, "EW_FIRST_MISSED_PAYMENT", "low",
                                    "A scheduled payment was missed; the borrower is reminded.")]),
        await seeded_state(ids[4], today, 110, 2400.0, paid_installments=0,     # slipped past 60 DPD
                           alerts=[(79, "EW_FIRST_MISSED_PAYMENT", "low", "A scheduled payment was missed."),
                                   (50, "EW_DPD_30", "medium", "A payment is 30 or more days past due."),
                                   (20, "EW_DPD_60", "high",
                                    "A payment is 60 or more days past due; new draws are frozen.")],
                           watch_list=True, watch_reasons=["EW_DPD_30"], frozen=True, frozen_reason="EW_DPD_60",
                           active_rules=["EW-REMINDER", "EW-DPD30", "EW-DPD60"]),
    ]
    assert [s.bucket for s in states] == ["current", "current", "current", "1-29", "60-89"]
    handles = []
    for st in states:
        inp = CreditLineInput(application_id=st.application_id, product="consumer_installment",
                              credit_limit=st.credit_limit, grade="B", score=620.0, opened_on=st.opened_on,
                              carried_state=st)
        handles.append(await temporal_env.client.start_workflow(
            CreditLineWorkflow.run, inp, id=f"credit-line-{st.application_id}", task_queue=task_queue))

    # wait until visibility lists all five lines (search attributes lag behind)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        for _ in range(150):
            r = await http.get("/v1/portfolio/summary", headers={"Authorization": f"Bearer {tokens['officer']}"})
            if r.json().get("lines") == 5:
                break
            await asyncio.sleep(0.2)
        summary = r.json()
    assert summary["lines"] == 5 and summary["frozen"] == 1 and summary["watch_list"] == 1
    assert summary["alerts"]["open"] == 2  # the last 30 days: the reminder of line 4 and the freeze of line 5

    await page.goto(f"{api_url}/console")
    await page.get_by_label("Officer token").fill(tokens["officer"])
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("link", name="Portfolio of open credit lines").click()
    await expect(page.get_by_role("heading", name="Credit line portfolio")).to_be_visible()  # same tab token
    await page.evaluate("sessionStorage.clear()")

    response = await page.goto(f"{api_url}/console/portfolio")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Staff token").fill(tokens["officer"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Credit line portfolio")).to_be_visible()

    # the chart: one bar per bucket, with the count above it
    chart = page.get_by_role("img", name="Lines by delinquency bucket")
    await expect(chart).to_be_visible()
    for bucket, count in (("current", "3"), ("1-29", "1"), ("30-59", "0"), ("60-89", "1"), ("90+", "0")):
        await expect(chart.locator(f'g[data-bucket="{bucket}"] text.bar-value')).to_have_text(count)
    # the same numbers as a table (the accessible alternative to the chart)
    table = page.get_by_role("table", name="Counts and balances by bucket")
    await expect(table.get_by_role("row", name="60-89")).to_contain_text("1")
    await expect(table.get_by_role("row", name="current")).to_contain_text("3")
    # roll rates: one column per month-over-month step, a rate (or a dash) per starting bucket
    rolls = page.get_by_role("table", name="Roll-forward rate by starting bucket")
    await expect(rolls).to_be_visible()
    await expect(rolls.get_by_role("row", name="current")).to_contain_text("%")
    # the alert list, most recent first, severity as text
    alerts = page.get_by_role("table", name="Early-warning alerts, newest first")
    await expect(alerts.locator("tbody tr")).to_have_count(2)
    first = alerts.locator("tbody tr").first
    await expect(first).to_contain_text("EW_FIRST_MISSED_PAYMENT")
    await expect(alerts).to_contain_text("EW_DPD_60")
    await expect(alerts.locator("tbody tr").nth(1)).to_contain_text("high")
    await expect(alerts.locator("tbody tr").nth(1)).to_contain_text("frozen")
    await expect(page.get_by_role("status")).to_contain_text("5 open lines")
    await page.screenshot(path=str(screenshots / "portfolio.png"), full_page=True)

    # an applicant's token is refused, and the page says so
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("Staff token").fill(tokens["applicant"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Not allowed")

    for h in handles:
        await h.terminate("test finished")
